"""Fan-out: each client gets exactly the events of its channels, in position order, once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.gateway.harness import Recorder, emit, has_events, own_execution, progress

if TYPE_CHECKING:
    import asyncpg

    from tests.gateway.harness import Running


async def test_each_client_gets_exactly_its_channels_events_in_order_once(
    gateway: Running, pool: asyncpg.Pool
) -> None:
    await own_execution(pool, "ex_a", "u1")
    await own_execution(pool, "ex_b", "u2")
    await own_execution(pool, "ex_c", "u3")
    on_a1 = await Recorder().connect(gateway.url, "u1")
    on_a2 = await Recorder().connect(gateway.url, "u1")
    user_only = await Recorder().connect(gateway.url, "u2")
    on_c = await Recorder().connect(gateway.url, "u3")
    for client, channel in (
        (on_a1, "execution:ex_a"),
        (on_a2, "execution:ex_a"),
        (on_c, "execution:ex_c"),
    ):
        ack = await client.call("subscribe", {"channel": channel})
        assert ack["ok"] is True, ack
    # ex_a's events reach u1 through both its user channel and the execution channel: once.
    for i in range(30):
        await emit(pool, progress("u1", "ex_a", i), progress("u2", "ex_b", i))
        if i % 3 == 0:
            await emit(pool, progress("u3", "ex_c", i))
    await on_a1.wait_until(lambda r: len(r.events) == 30)
    await on_a2.wait_until(lambda r: len(r.events) == 30)
    await user_only.wait_until(lambda r: len(r.events) == 30)
    await on_c.wait_until(lambda r: len(r.events) == 10)
    # A marker after everything: nobody got more than the counts above.
    await emit(
        pool, progress("u1", "ex_a", 99), progress("u2", "ex_b", 99), progress("u3", "ex_c", 99)
    )
    for client, execution, count in (
        (on_a1, "ex_a", 31),
        (on_a2, "ex_a", 31),
        (user_only, "ex_b", 31),
        (on_c, "ex_c", 11),
    ):
        await client.wait_until(has_events(count))
        positions = client.positions()
        assert positions == sorted(set(positions))
        assert {e["executionId"] for e in client.events} == {execution}
        assert [e["data"]["step"] for e in client.events][-1] == "99"
        await client.close()
