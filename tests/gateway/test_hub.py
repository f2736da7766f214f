"""The hub's rules (order, replay, batching, slow consumers, rooms) against an in-memory
transport and event log: no sockets, no Postgres."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import pytest

from flowmaestro.events.outbox import ReadResult, StoredEvent
from flowmaestro.gateway.budgets import Held, Hold, Rate, UserLimits
from flowmaestro.gateway.config import GatewayConfig
from flowmaestro.gateway.errors import GatewayError
from flowmaestro.gateway.hub import Hub
from flowmaestro.gateway.metrics import GatewayMetrics
from flowmaestro.security import Limits

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Sequence

    from flowmaestro.gateway.hub import Connection
    from flowmaestro.gateway.outlets import Frame

USER = "user:u1"
RUN = "execution:ex1"
OTHER = "execution:ex2"
WAIT = 5.0


class FakeOutlet:
    def __init__(self, low_water: int) -> None:
        self.frames: list[str] = []
        self.low_water = low_water
        self.closed = False
        self.severed: str | None = None
        self.severing = asyncio.Event()
        self.blocked = asyncio.Event()
        """Set while a drain is awaited."""
        self._drained = asyncio.Event()
        self._drained.set()

    def depth(self) -> int | None:
        return None if self.closed else len(self.frames)

    def enqueue(self, frame: Frame) -> None:
        assert isinstance(frame, str)
        self.frames.append(frame)
        if len(self.frames) > self.low_water:
            self._drained.clear()

    async def drained(self) -> None:
        if not self._drained.is_set():
            self.blocked.set()
        await self._drained.wait()

    async def sever(self, reason: str) -> None:
        self.closed = True
        self.severed = reason
        self.severing.set()

    def take(self) -> list[Any]:
        """What the client reads: every queued frame, decoded."""
        frames, self.frames = self.frames, []
        self.blocked.clear()
        self._drained.set()
        return [json.loads(f) for f in frames]


class FakeTransport:
    def __init__(self, low_water: int = 1) -> None:
        self.rooms: dict[str, dict[str, None]] = {}
        self.outlets: dict[str, FakeOutlet] = {}
        self._low_water = low_water

    def frame(self, event: str) -> Frame:
        return event

    def outlet(self, sid: str) -> FakeOutlet:
        return self.outlets.setdefault(sid, FakeOutlet(self._low_water))

    def join(self, sid: str, room: str) -> None:
        self.rooms.setdefault(room, {})[sid] = None

    def leave(self, sid: str, room: str) -> None:
        members = self.rooms.get(room, {})
        members.pop(sid, None)
        if not members:
            self.rooms.pop(room, None)

    def members(self, rooms: Sequence[str]) -> Iterable[str]:
        return dict.fromkeys(sid for room in rooms for sid in self.rooms.get(room, ()))


class FakeLog:
    """The outbox in memory; `hold()` makes replays wait until `release()`."""

    def __init__(self) -> None:
        self.events: list[StoredEvent] = []
        self.pruned_through = 0
        self.failure: Exception | None = None
        self._open = asyncio.Event()
        self._open.set()
        self.waiting = asyncio.Event()

    def append(self, *channels: str) -> StoredEvent:
        position = len(self.events) + 1
        envelope = {"position": position, "type": "node:progress", "channels": list(channels)}
        stored = StoredEvent(position, "node:progress", channels, json.dumps(envelope), 0.0)
        self.events.append(stored)
        return stored

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    async def head(self) -> int:
        return len(self.events)

    async def trace_contexts(self, positions: Sequence[int]) -> dict[int, str]:
        return {}

    async def pages(self, after: int) -> AsyncIterator[list[StoredEvent]]:
        yield self.events[after:]

    async def replay(self, position: int, channel: str | Sequence[str], limit: int) -> ReadResult:
        self.waiting.set()
        await self._open.wait()
        if self.failure is not None:
            raise self.failure
        wanted = {channel} if isinstance(channel, str) else set(channel)
        page = [e for e in self.events if e.position > position and wanted & set(e.channels)]
        return ReadResult(page[:limit], position >= self.pruned_through, len(self.events))


class Unbounded:
    """Budgets that never refuse (the budgets themselves are tested on Postgres, in
    test_budgets.py)."""

    async def hold(self, user_id: str, budget: Hold, count: int = 1) -> None:
        pass

    def release(self, user_id: str, budget: Hold, count: int = 1) -> None:
        pass

    async def take(self, user_id: str, budget: Hold, count: int = 1) -> Held:
        return Held(self, user_id, budget, count)

    async def spend(
        self, user_id: str, budget: Rate, amount: float = 1.0, *, debt: bool = False
    ) -> None:
        pass

    async def check(self, user_id: str, budget: Rate) -> None:
        pass


class Setup:
    def __init__(self, **limits: Any) -> None:
        replay_page = limits.pop("replay_page", 500)
        slow_timeout = limits.pop("slow_timeout", WAIT)
        batch_max = limits.pop("batch_max", 256)
        self.config = GatewayConfig(
            limits=Limits(**limits),
            replay_page=replay_page,
            slow_timeout=slow_timeout,
            batch_max=batch_max,
        )
        self.transport = FakeTransport()
        self.log = FakeLog()
        self.metrics = GatewayMetrics()
        self.hub = Hub(
            self.transport,
            self.log,
            self.config,
            self.metrics,
            Unbounded(),
            UserLimits.of(self.config.limits),
        )

    def connect(self, sid: str = "s1", **options: Any) -> tuple[Connection, FakeOutlet]:
        conn = self.hub.connect(sid, "u1", **options)
        return conn, self.transport.outlets[sid]

    def live(self, *channels: str) -> StoredEvent:
        """An event written to the log and fanned out, as by the tail (one page)."""
        stored = self.log.append(*channels)
        self.hub.publish(stored)
        self.hub.flush()
        return stored

    def counter(self, name: str, **labels: str) -> float:
        value = self.metrics.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value


def positions(frames: list[Any]) -> list[int]:
    """The positions a client got, in order, batches unpacked."""
    out: list[int] = []
    for name, *data in frames:
        envelopes = data[0] if name == "events" else data
        out += [e["position"] for e in envelopes]
    return out


async def test_live_events_reach_the_sockets_of_their_rooms_once_each() -> None:
    s = Setup()
    _, mine = s.connect("s1")
    _, theirs = s.connect("s2")
    s.transport.leave("s2", USER)
    s.transport.join("s2", OTHER)
    s.live(USER, RUN)
    s.live(OTHER)
    s.live(USER, OTHER)
    assert positions(mine.take()) == [1, 3]
    assert positions(theirs.take()) == [2, 3]


async def test_a_frame_is_the_event_type_then_the_stored_envelope() -> None:
    s = Setup()
    _, outlet = s.connect()
    stored = s.live(USER)
    assert outlet.frames == [f'["node:progress",{stored.json}]']


async def test_live_events_during_a_replay_follow_it_in_position_order_each_once() -> None:
    s = Setup()
    conn, outlet = s.connect()
    for _ in range(3):
        s.live(RUN)  # before the subscribe: only the replay brings them
    s.log.hold()
    subscribing = asyncio.create_task(s.hub.subscribe(conn, [RUN], 0))
    await asyncio.wait_for(s.log.waiting.wait(), WAIT)
    s.live(RUN)  # 4: in the log before the replay reads it, and live: held
    s.live(USER)  # 5: another room's, held behind the replay all the same
    s.live(RUN, USER)  # 6
    assert outlet.frames == []
    s.log.release()
    ack = await asyncio.wait_for(subscribing, WAIT)
    assert positions(outlet.take()) == [1, 2, 3, 4, 5, 6]
    assert (ack.replayed, ack.position, ack.recovered) == (6, 6, True)
    s.live(RUN)
    assert positions(outlet.take()) == [7]


async def test_a_replay_skips_what_another_room_of_the_socket_sent() -> None:
    s = Setup()
    conn, outlet = s.connect()
    s.live(USER, RUN)  # 1: sent live through the user channel
    s.live(RUN)  # 2
    assert positions(outlet.take()) == [1]
    ack = await s.hub.subscribe(conn, [RUN], 0)
    assert positions(outlet.take()) == [2]
    assert ack.replayed == 1


async def test_a_resubscribe_with_an_older_cursor_resends_nothing_the_socket_was_sent() -> None:
    s = Setup()
    conn, outlet = s.connect()
    await s.hub.subscribe(conn, [RUN], None)
    s.live(RUN)
    s.live(RUN)
    assert positions(outlet.take()) == [1, 2]
    ack = await s.hub.subscribe(conn, [RUN], 1)
    assert outlet.take() == []
    assert (ack.replayed, ack.position) == (0, 2)
    s.live(RUN)
    assert positions(outlet.take()) == [3]


async def test_a_connect_with_after_replays_the_user_channel_before_live_events() -> None:
    s = Setup()
    s.live(USER)
    s.live(USER)
    s.log.hold()
    _, outlet = s.connect(after=0)
    await asyncio.wait_for(s.log.waiting.wait(), WAIT)
    s.live(USER)
    assert outlet.frames == []
    s.log.release()
    conn = s.hub.connections["s1"]
    async with asyncio.timeout(WAIT):
        async with conn.lock:  # the replay holds it until done
            pass
    assert positions(outlet.take()) == [1, 2, 3]


async def test_a_failed_replay_leaves_the_rooms_as_they_were_and_sends_what_others_owe() -> None:
    s = Setup()
    conn, outlet = s.connect()
    s.log.hold()
    s.log.failure = OSError("the database went away")
    subscribing = asyncio.create_task(s.hub.subscribe(conn, [RUN], 0))
    await asyncio.wait_for(s.log.waiting.wait(), WAIT)
    s.live(RUN, USER)  # owed through the user channel
    s.live(RUN)  # only the failed subscribe's
    s.log.release()
    with pytest.raises(OSError, match="went away"):
        await asyncio.wait_for(subscribing, WAIT)
    assert positions(outlet.take()) == [1]
    assert RUN not in conn.joined and RUN not in s.transport.rooms
    s.live(RUN)
    assert outlet.take() == []


async def test_a_batching_socket_gets_one_events_message_per_page() -> None:
    s = Setup()
    _, outlet = s.connect(batch=True)
    for _ in range(3):
        s.hub.publish(s.log.append(USER))
    assert outlet.frames == []
    s.hub.flush()
    assert outlet.take() == [["events", [e.envelope for e in s.log.events]]]


async def test_a_batch_leaves_when_full_without_waiting_for_the_page() -> None:
    s = Setup(batch_max=2)
    _, outlet = s.connect(batch=True)
    for _ in range(5):
        s.hub.publish(s.log.append(USER))
    assert [len(events) for _, events in outlet.take()] == [2, 2]
    s.hub.flush()
    assert [len(events) for _, events in outlet.take()] == [1]


async def test_a_subscribe_flushes_a_pending_batch_ahead_of_its_ack() -> None:
    s = Setup()
    conn, outlet = s.connect(batch=True)
    s.hub.publish(s.log.append(USER))
    await s.hub.subscribe(conn, [RUN], None)
    assert positions(outlet.take()) == [1]


async def test_a_replay_comes_batched_when_asked() -> None:
    s = Setup()
    conn, outlet = s.connect()
    for _ in range(3):
        s.live(RUN)
    await s.hub.subscribe(conn, [RUN], 0, batch=True)
    frames = outlet.take()
    assert [name for name, *_ in frames] == ["events"]
    assert positions(frames) == [1, 2, 3]


async def test_a_socket_whose_queue_is_full_is_severed_as_slow() -> None:
    s = Setup(socket_max_queue=4)
    _, outlet = s.connect()
    for _ in range(6):
        s.live(USER)
    await asyncio.wait_for(outlet.severing.wait(), WAIT)
    assert outlet.severed == "slow"
    assert positions(outlet.take()) == [1, 2, 3, 4]
    assert s.counter("flowmaestro_gateway_failed_deliveries_total", reason="slow") == 1
    assert s.counter("flowmaestro_gateway_failed_deliveries_total", reason="closed") == 1
    s.live(USER)
    assert outlet.take() == []


async def test_a_replay_page_waits_for_the_queue_to_drain() -> None:
    s = Setup(socket_max_queue=4)  # pages of 2
    conn, outlet = s.connect()
    for _ in range(5):
        s.live(RUN)
    subscribing = asyncio.create_task(s.hub.subscribe(conn, [RUN], 0))
    for expected in ([1, 2], [3, 4]):
        await asyncio.wait_for(outlet.blocked.wait(), WAIT)
        assert positions(outlet.take()) == expected
    ack = await asyncio.wait_for(subscribing, WAIT)
    assert positions(outlet.take()) == [5]
    assert ack.replayed == 5


async def test_a_replay_to_a_socket_that_never_drains_severs_it() -> None:
    s = Setup(socket_max_queue=4, slow_timeout=0.01)
    conn, outlet = s.connect()
    for _ in range(5):
        s.live(RUN)
    await asyncio.wait_for(s.hub.subscribe(conn, [RUN], 0), WAIT)
    await asyncio.wait_for(outlet.severing.wait(), WAIT)
    assert positions(outlet.take()) == [1, 2]


async def test_a_socket_holding_too_much_behind_its_replay_is_severed() -> None:
    s = Setup(socket_max_queue=4)
    conn, outlet = s.connect()
    s.log.hold()
    subscribing = asyncio.create_task(s.hub.subscribe(conn, [RUN], 0))
    await asyncio.wait_for(s.log.waiting.wait(), WAIT)
    for _ in range(41):  # 10 queues' worth, then one
        s.live(USER)
    await asyncio.wait_for(outlet.severing.wait(), WAIT)
    s.log.release()
    await asyncio.wait_for(subscribing, WAIT)
    assert outlet.severed == "slow"


async def test_an_unsubscribed_channel_sends_no_more() -> None:
    s = Setup()
    conn, outlet = s.connect()
    await s.hub.subscribe(conn, [RUN, OTHER], None)
    s.live(RUN)
    await s.hub.unsubscribe(conn, RUN)
    s.live(RUN)
    s.live(OTHER)
    assert positions(outlet.take()) == [1, 3]
    assert set(s.transport.rooms) == {USER, OTHER}


async def test_a_disconnected_socket_gets_nothing() -> None:
    s = Setup()
    _, outlet = s.connect(batch=True)
    s.hub.publish(s.log.append(USER))
    s.hub.disconnect("s1")
    s.hub.flush()
    s.live(USER)
    assert outlet.take() == []


async def test_subscriptions_are_bounded_per_socket() -> None:
    s = Setup(socket_max_subscriptions=2)
    conn, _ = s.connect()
    await s.hub.subscribe(conn, [RUN], None)
    with pytest.raises(GatewayError) as refused:
        await s.hub.subscribe(conn, [OTHER], None)
    assert refused.value.code == "bad_request"
    assert OTHER not in s.transport.rooms
