"""A loop waiting through `wait_set` ends when cancelled, even when the cancel arrives just as
its event is set (where Python 3.11's `asyncio.wait_for` swallows the cancel)."""

from __future__ import annotations

import asyncio

import pytest

from flowmaestro.waiting import wait_set


async def _loop(event: asyncio.Event, rounds: list[bool]) -> None:
    while True:
        event.clear()
        rounds.append(await wait_set(event, 30))


async def test_a_cancel_as_the_event_is_set_ends_the_loop() -> None:
    event, rounds = asyncio.Event(), list[bool]()
    task = asyncio.create_task(_loop(event, rounds))
    await asyncio.sleep(0)  # the loop waits
    event.set()
    await asyncio.sleep(0)  # its waiter is woken: the wait completes on the next step...
    task.cancel()  # ...which is also when the cancel lands
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(5):
            await task
    assert rounds == [True]


async def test_the_timeout_says_false() -> None:
    assert await wait_set(asyncio.Event(), 0) is False
    event = asyncio.Event()
    event.set()
    assert await wait_set(event, 0) is True
