"""What `emit_event`, `register_event`, `progress` and `agent_stream` do inside an attempt and
outside one, with an in-memory emitter (the real path is in test_plugin.py)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from pydantic import BaseModel

from flowmaestro.activities.execution import ExecutionRef
from flowmaestro.events import AgentStreamingEnd, AgentToken, AppEvent, NodeProgress
from flowmaestro.security import Limits
from flowmaestro.temporal import (
    EventDataError,
    EventNameError,
    EventTooLargeError,
    agent_stream,
    emit_event,
    progress,
)
from flowmaestro.temporal.custom_events import EventRegistry
from flowmaestro.temporal.progress import ProgressReports
from flowmaestro.temporal.scope import AttemptScope, enter, leave
from flowmaestro.temporal.values import jsonable

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from flowmaestro.events import Event


class Memory:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def emit(self, events: Sequence[Event]) -> int:
        self.events.extend(events)
        return len(events)


def attempt(emitter: Memory, limits: Limits, *, node: str = "charge", n: int = 2) -> AttemptScope:
    """Attempt `n` of activity `node` of alice's `order-1`."""
    return AttemptScope(
        execution=ExecutionRef(execution_id="order-1", user_id="alice", workflow_id="Order"),
        run_id="run-1",
        node_id=node,
        node_type=node,
        attempt=n,
        emitter=emitter,
        limits=limits,
    )


@pytest.fixture
def written() -> Iterator[Memory]:
    memory = Memory()
    token = enter(attempt(memory, Limits(max_event_data_bytes=100)))
    yield memory
    leave(token)


class Shipped(BaseModel):
    carrier: str


def test_names_and_data_are_checked() -> None:
    registry = EventRegistry()
    registry.register("order.shipped", Shipped)
    for bad in ("", "Order", "a b", "x" * 65, "-x"):
        with pytest.raises(EventNameError):
            registry.data(bad, {})
    with pytest.raises(EventDataError, match="carrier"):
        registry.data("order.shipped", {"carrier": 3})
    assert registry.data("order.shipped", Shipped(carrier="ups")) == {"carrier": "ups"}
    assert registry.data("anything", {"a": [1, None]}) == {"a": [1, None]}
    with pytest.raises(EventDataError):
        registry.data("anything", {"a": object()})

    class Other(BaseModel):
        carrier: str

    with pytest.raises(EventNameError, match="registered"):
        registry.register("order.shipped", Other)


async def test_outside_an_attempt_nothing_is_written_and_nothing_fails() -> None:
    await progress(50, "half")
    await emit_event("order.packed", {"boxes": 2})
    async with agent_stream("writer") as stream:
        await stream.token("hi")
    assert stream.response == "hi"


async def test_in_an_attempt_the_calls_emit_for_its_node(written: Memory) -> None:
    await progress(150, "over")
    await emit_event("order.packed", {"boxes": 2})
    await emit_event("order.packed", {"boxes": 3})
    with pytest.raises(EventTooLargeError):
        await emit_event("order.packed", {"notes": "x" * 200})
    async with agent_stream("writer", model="m") as stream:
        await stream.token("Hello ")
        await stream.token("world")
    progressed, packed, again, *agent = written.events
    assert isinstance(progressed, NodeProgress) and progressed.data.progress == 100
    assert isinstance(packed, AppEvent) and packed.type == "app:order.packed"
    assert packed.execution_id == "order-1" and packed.user_id == "alice"
    assert packed.id != again.id
    tokens = [e for e in agent if isinstance(e, AgentToken)]
    assert "".join(t.data.token for t in tokens) == "Hello world"
    assert all(t.data.attempt == 2 and t.agent_id == "writer" for t in tokens)
    [end] = [e for e in agent if isinstance(e, AgentStreamingEnd)]
    assert end.data.response == "Hello world" and end.data.finish_reason == "stop"


def test_values_over_the_limit_are_noted_not_written() -> None:
    assert jsonable({"a": 1}, 100) == {"a": 1}
    assert jsonable("x" * 200, 100) == {"truncated": True, "bytes": 202}
    assert jsonable(object(), 100) == {"unserializable": "object"}


class Signalling(Memory):
    """Memory that says when an event is written, and fails the writes after `fail_after`."""

    def __init__(self, fail_after: int | None = None) -> None:
        super().__init__()
        self.wrote = asyncio.Event()
        self._fail_after = fail_after

    async def emit(self, events: Sequence[Event]) -> int:
        if self._fail_after is not None and len(self.events) >= self._fail_after:
            raise ConnectionError("the outbox is away")
        self.wrote.set()
        return await super().emit(events)


def reserving(emitter: Memory, interval: float) -> AttemptScope:
    return attempt(emitter, Limits(progress_min_interval_seconds=interval), node="reserve", n=1)


def progressed(memory: Memory) -> list[tuple[float, str]]:
    return [(e.data.progress, e.data.step) for e in memory.events if isinstance(e, NodeProgress)]


async def test_a_tight_loop_of_progress_writes_the_first_and_the_last() -> None:
    memory = Memory()
    scope = reserving(memory, interval=3600)
    token = enter(scope)
    try:
        for i in range(1, 10_001):
            await progress(i / 100, f"item {i}")
    finally:
        leave(token)
    assert progressed(memory) == [(0.01, "item 1")]
    await scope.flush()  # the attempt ends: its latest value goes out before its end event
    assert progressed(memory) == [(0.01, "item 1"), (100.0, "item 10000")]
    assert len({e.id for e in memory.events}) == 2


async def test_the_latest_value_goes_out_when_the_interval_is_up() -> None:
    memory = Signalling()
    scope = reserving(memory, interval=0.01)
    token = enter(scope)
    try:
        await progress(10, "a")
        memory.wrote.clear()
        await progress(20, "b")
        await progress(30, "c")
        assert progressed(memory) == [(10.0, "a")]
        async with asyncio.timeout(10):
            await memory.wrote.wait()  # no flush: the interval ran out
        assert progressed(memory) == [(10.0, "a"), (30.0, "c")]
        await progress(40, "d")  # a fresh interval: pending again, until the attempt ends
        await scope.flush()
    finally:
        leave(token)
    assert progressed(memory)[-1] == (40.0, "d")


async def test_a_pending_value_that_cannot_be_written_fails_the_attempts_end() -> None:
    memory = Signalling(fail_after=1)
    scope = reserving(memory, interval=3600)
    token = enter(scope)
    try:
        await progress(10)
        await progress(20)  # pending
    finally:
        leave(token)
    with pytest.raises(ConnectionError):
        await scope.flush()
    assert progressed(memory) == [(10.0, "")]


async def test_a_call_once_the_interval_is_up_is_written_at_once() -> None:
    """The interval is read from the attempt's clock (injected here): no call waits."""
    now = 0.0
    memory = Memory()
    scope = reserving(memory, interval=5)
    scope.progress = ProgressReports(scope, 5, clock=lambda: now)
    token = enter(scope)
    try:
        await progress(10, "a")
        now = 5.0
        await progress(20, "b")  # the interval is up: written now, not in the background
        assert progressed(memory) == [(10.0, "a"), (20.0, "b")]
        now = 6.0
        await progress(30, "c")  # inside the next interval: pending
        assert progressed(memory) == [(10.0, "a"), (20.0, "b")]
        await scope.flush()
    finally:
        leave(token)
    assert progressed(memory) == [(10.0, "a"), (20.0, "b"), (30.0, "c")]
