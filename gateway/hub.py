"""Fan-out: one outbox tail per process; each event is queued once to every socket in any of
its channels, and a subscribe with `after` replays with no gap and no duplicate at the seam.

Everything that decides what a socket gets runs synchronously on the event loop (no await
between reading the live position and joining a room, nor inside one event's fan-out), so
"the tail's position when the socket joined" is exact: the socket receives live every event
of that room after it, and a replay covers exactly the events up to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncpg
from engineio import packet as eio_packet

from events.channels import user_channel
from events.protocol import SubscribeAck
from gateway.errors import GatewayError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from events.outbox import OutboxReader, StoredEvent
    from gateway.config import GatewayConfig
    from gateway.metrics import GatewayMetrics
    from gateway.transport import SocketServer

log = logging.getLogger(__name__)

NAMESPACE = "/"


_NAMES: dict[str, str] = {}
"""Event type -> its JSON string, once per type."""


def encode(stored: StoredEvent) -> Any:
    """The engine.io packet of one event: its type as the event name, the envelope as data.

    The envelope text is the stored one (position spliced in), never decoded here; engine.io
    caches a packet's encoding, so every socket shares this one string."""
    name = _NAMES.get(stored.type)
    if name is None:
        name = _NAMES[stored.type] = json.dumps(stored.type)
    return eio_packet.Packet(eio_packet.MESSAGE, f"2[{name},{stored.json}]")


@dataclass(slots=True)
class _Replay:
    after: int
    held: list[tuple[int, Any]] = field(default_factory=list)
    """Live events of the replaying channel, sent after the replay."""


class Connection:
    """One socket: which rooms it has and since which position each covers it."""

    __slots__ = ("closed", "eio_sid", "joined", "lock", "replays", "sid", "slow", "user_id")

    def __init__(self, sid: str, eio_sid: str, user_id: str) -> None:
        self.sid = sid
        self.eio_sid = eio_sid
        self.user_id = user_id
        self.joined: dict[str, int] = {}
        """room -> position after which the socket has (or will get) every event of it."""
        self.replays: dict[str, _Replay] = {}
        self.lock = asyncio.Lock()
        self.slow = False
        self.closed = False


class _Listener:
    """An SSE stream's live feed of its channels; `overflowed` ends the stream."""

    def __init__(self, bound: int) -> None:
        self.queue: asyncio.Queue[StoredEvent] = asyncio.Queue(bound)
        self.overflowed = False
        self.last = 0
        """The last position queued (an event in two of its channels is queued once)."""


class Hub:
    def __init__(
        self,
        server: SocketServer,
        reader: OutboxReader,
        config: GatewayConfig,
        metrics: GatewayMetrics,
    ) -> None:
        self._server = server
        self._reader = reader
        self._config = config
        self._metrics = metrics
        self._page = max(1, min(config.replay_page, config.limits.socket_max_queue // 2))
        self.position = 0
        """The last position fanned out by this process."""
        self.connections: dict[str, Connection] = {}
        self._listeners: dict[str, set[_Listener]] = {}
        self._emitted: dict[str, Any] = {}
        """Event type -> its `events_emitted` counter (label lookups cost a lock each)."""
        self.running = asyncio.Event()

    async def run(self, retry_after: float = 1.0) -> None:
        """Tail the outbox from the live head (never the whole history) and fan out; after a
        lost connection, continue from the last position fanned out (no gap)."""
        self.position = await self._reader.head()
        while True:
            self.running.set()
            try:
                async for stored in self._reader.tail(self.position):
                    self.publish(stored)
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                log.warning("outbox tail lost (%s); resuming after %s", exc, self.position)
            finally:
                self.running.clear()
            await asyncio.sleep(retry_after)

    def publish(self, stored: StoredEvent) -> None:
        self.position = stored.position
        emitted = self._emitted.get(stored.type)
        if emitted is None:
            emitted = self._emitted[stored.type] = self._metrics.events_emitted.labels(stored.type)
        emitted.inc()
        self._metrics.commit_to_emit.observe(max(0.0, time.time() - stored.created_at))
        packet = encode(stored)
        sent = 0
        for sid, _ in self._server.manager.get_participants(NAMESPACE, stored.channels):
            conn = self.connections.get(sid)
            if conn is not None:
                sent += self._route(conn, stored, packet)
        self._metrics.deliveries.inc(sent)
        for channel in stored.channels:
            for listener in self._listeners.get(channel, ()):
                if listener.last >= stored.position:
                    continue  # it follows another of the event's channels: queued already
                listener.last = stored.position
                try:
                    listener.queue.put_nowait(stored)
                except asyncio.QueueFull:
                    listener.overflowed = True

    def _route(self, conn: Connection, stored: StoredEvent, packet: Any) -> int:
        # An event of a channel being replayed waits for the replay, even when another room
        # (say the user channel) would take it now: the resumed channel stays in order.
        for ch in stored.channels if conn.replays else ():
            replay = conn.replays.get(ch)
            if replay is not None:
                replay.held.append((stored.position, packet))
                if len(replay.held) > 10 * self._config.limits.socket_max_queue:
                    self._drop_slow(conn)
                return 0
        return self._send(conn, packet)

    def _send(self, conn: Connection, packet: Any) -> int:
        socket = self._server.eio.sockets.get(conn.eio_sid)
        if conn.slow or socket is None or socket.closed:
            self._metrics.failed_deliveries.labels("closed").inc()
            return 0
        if socket.queue.qsize() >= self._config.limits.socket_max_queue:
            self._drop_slow(conn)
            return 0
        socket.queue.put_nowait(packet)
        return 1

    def _drop_slow(self, conn: Connection) -> None:
        if conn.slow:
            return
        conn.slow = True
        self._metrics.failed_deliveries.labels("slow").inc()
        log.info("socket %s (user %s) cannot keep up: disconnecting", conn.sid, conn.user_id)
        task = asyncio.ensure_future(self._disconnect_slow(conn.eio_sid))
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)

    async def _disconnect_slow(self, eio_sid: str) -> None:
        await self._server.sever(eio_sid, "slow")

    # -- sockets ---------------------------------------------------------------------

    def connect(self, sid: str, eio_sid: str, user_id: str) -> Connection:
        """Register a socket and join its user channel (call with no await after it)."""
        conn = Connection(sid, eio_sid, user_id)
        self.connections[sid] = conn
        room = user_channel(user_id)
        self._server.manager.basic_enter_room(sid, NAMESPACE, room)
        conn.joined[room] = self.position
        return conn

    def disconnect(self, sid: str) -> None:
        conn = self.connections.pop(sid, None)
        if conn is not None:
            conn.closed = True

    async def subscribe(self, conn: Connection, channel: str, after: int | None) -> SubscribeAck:
        """Join `channel`; with `after`, first replay its events after that position."""
        async with conn.lock:
            if (
                channel not in conn.joined
                and len(conn.joined) >= self._config.limits.socket_max_subscriptions
            ):
                raise GatewayError(
                    "bad_request",
                    f"at most {self._config.limits.socket_max_subscriptions} subscriptions per connection",
                )
            if after is None:
                if channel not in conn.joined:
                    self._server.manager.basic_enter_room(conn.sid, NAMESPACE, channel)
                    conn.joined[channel] = self.position
                return SubscribeAck(
                    channel=channel, position=self.position, replayed=0, recovered=True
                )
            self._metrics.reconnects.inc()
            return await self._resume(conn, channel, after)

    async def _resume(self, conn: Connection, channel: str, after: int) -> SubscribeAck:
        upto = self.position
        previous = conn.joined.pop(channel, None)
        # What the socket has (or will get) from elsewhere; the replay skips it.
        covered = dict(conn.joined)
        if previous is not None:
            covered[channel] = previous
        replay = conn.replays[channel] = _Replay(after)
        self._server.manager.basic_enter_room(conn.sid, NAMESPACE, channel)
        try:
            replayed, recovered = await self._replay(conn, channel, after, upto, covered)
        except BaseException:
            del conn.replays[channel]
            if previous is None:
                self._server.manager.basic_leave_room(conn.sid, NAMESPACE, channel)
            else:
                conn.joined[channel] = previous
            raise
        # From here to the end: no await, so no live event can slip between.
        last = max(after, upto)
        for position, packet in replay.held:
            if position > after:
                self._send(conn, packet)
                last = max(last, position)
        del conn.replays[channel]
        conn.joined[channel] = min(after, upto, previous if previous is not None else upto)
        self._metrics.deliveries.inc(replayed + len(replay.held))
        return SubscribeAck(channel=channel, position=last, replayed=replayed, recovered=recovered)

    async def _replay(
        self, conn: Connection, channel: str, after: int, upto: int, covered: dict[str, int]
    ) -> tuple[int, bool]:
        """Send the channel's events in (after, upto] the socket did not get; return how many
        were sent and whether history since `after` was complete."""
        replayed = 0
        cursor = after
        recovered = True
        first = True
        while (first or cursor < upto) and not (conn.closed or conn.slow):
            page = await self._reader.replay(cursor, channel, self._page)
            if first:
                recovered, first = page.recovered, False
            for stored in page.events:
                if stored.position > upto:
                    return replayed, recovered
                cursor = stored.position
                if any(covered.get(ch, upto) < stored.position for ch in stored.channels):
                    continue
                replayed += self._send(conn, encode(stored))
            if len(page.events) < self._page:
                break
            await self._drained(conn)
        return replayed, recovered

    async def _drained(self, conn: Connection) -> None:
        socket = self._server.eio.sockets.get(conn.eio_sid)
        if socket is None or socket.queue.drained.is_set():
            return
        try:
            await asyncio.wait_for(socket.queue.drained.wait(), self._config.slow_timeout)
        except TimeoutError:
            self._drop_slow(conn)

    async def unsubscribe(self, conn: Connection, channel: str) -> None:
        async with conn.lock:
            if conn.joined.pop(channel, None) is not None:
                self._server.manager.basic_leave_room(conn.sid, NAMESPACE, channel)

    # -- SSE -------------------------------------------------------------------------

    @contextlib.contextmanager
    def listen(self, *channels: str) -> Iterator[tuple[int, _Listener]]:
        """A live feed of `channels` from the current position (yields (position, listener))."""
        listener = _Listener(self._config.limits.socket_max_queue)
        for channel in channels:
            self._listeners.setdefault(channel, set()).add(listener)
        try:
            yield self.position, listener
        finally:
            for channel in channels:
                listeners = self._listeners.get(channel)
                if listeners is not None:
                    listeners.discard(listener)
                    if not listeners:
                        del self._listeners[channel]


_tasks: set[asyncio.Future[None]] = set()
