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
from typing import TYPE_CHECKING, Any, Protocol

import asyncpg

from flowmaestro.events.channels import user_channel
from flowmaestro.events.outbox import Availability
from flowmaestro.events.outbox.tracing import context_of
from flowmaestro.events.protocol import SubscribeAck
from flowmaestro.gateway.errors import GatewayError
from flowmaestro.gateway.replay_budget import ReplayBudget

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator, Sequence

    from opentelemetry.trace import Tracer

    from flowmaestro.events.outbox import ReadResult, StoredEvent
    from flowmaestro.gateway.budgets import Budgets, Held, UserLimits
    from flowmaestro.gateway.config import GatewayConfig
    from flowmaestro.gateway.metrics import GatewayMetrics
    from flowmaestro.gateway.outlets import Frame, Outlet, Transport
    from flowmaestro.gateway.replay_budget import ReplaySource

log = logging.getLogger(__name__)


_NAMES: dict[str, str] = {}
"""Event type -> its JSON string, once per type."""


def arguments(stored: StoredEvent) -> str:
    """The Socket.IO event arguments of one event: its type as the event name, the envelope
    as data. The envelope text is the stored one (position spliced in), never decoded here."""
    name = _NAMES.get(stored.type)
    if name is None:
        name = _NAMES[stored.type] = json.dumps(stored.type)
    return f"[{name},{stored.json}]"


class EventLog(Protocol):
    """The outbox as the hub reads it (an OutboxReader)."""

    async def head(self) -> int: ...

    def pages(self, after: int) -> AsyncIterator[list[StoredEvent]]: ...

    async def replay(
        self, position: int, channel: str | Sequence[str], limit: int
    ) -> ReadResult: ...

    async def trace_contexts(self, positions: Sequence[int]) -> dict[int, str]: ...


class Connection:
    """One socket: which rooms it has and since which position each covers it, and its
    outgoing order.

    A socket receives its events in position order across all its rooms: while a replay
    runs, every live event for the socket waits in `held` behind it. A batching socket's
    events collect in `pending` and leave as one `events` message per outbox page (or per
    `batch` events)."""

    __slots__ = (
        "batch",
        "charged",
        "closed",
        "held",
        "inbox",
        "joined",
        "lock",
        "outlet",
        "pending",
        "sid",
        "slow",
        "user_id",
    )

    def __init__(self, sid: str, outlet: Outlet, user_id: str, batch: int) -> None:
        self.sid = sid
        self.outlet = outlet
        self.user_id = user_id
        self.joined: dict[str, int] = {}
        """room -> position after which the socket has (or will get) every event of it."""
        self.inbox = 0
        """How many of `joined` are the user's inbox channels (not counted as subscriptions)."""
        self.held: list[tuple[StoredEvent, Frame]] | None = None
        """Live events (and their frames) waiting for the running replay; None when none runs."""
        self.batch = batch
        """At most this many envelopes per `events` message; 0: one message per event."""
        self.pending: list[str] = []
        self.lock = asyncio.Lock()
        """Held by a replay: subscribes of one socket run one after the other."""
        self.slow = False
        self.closed = False
        self.charged = 0
        """Channels counted against the user's `user_max_channels` (the user channel is not)."""


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
        transport: Transport,
        reader: EventLog,
        config: GatewayConfig,
        metrics: GatewayMetrics,
        budgets: Budgets,
        user_limits: UserLimits,
        tracer: Tracer | None = None,
    ) -> None:
        self._transport = transport
        self._tracer = tracer
        """With a tracer, each event written under a span is fanned out in that trace."""
        self._tracing_sends = False
        """Set while a traced event is fanned out: each socket it goes to gets a span."""
        self._reader = reader
        self._budgets = budgets
        self._user_limits = user_limits
        self.replays = ReplayBudget(reader, budgets, user_limits)
        self._config = config
        self._metrics = metrics
        self._page = max(1, min(config.replay_page, config.limits.socket_max_queue // 2))
        self.position = 0
        """The last position fanned out by this process."""
        self.connections: dict[str, Connection] = {}
        self._listeners: dict[str, set[_Listener]] = {}
        self._dirty: list[Connection] = []
        """Batching sockets with pending envelopes."""
        self._emitted: dict[str, Any] = {}
        """Event type -> its `events_emitted` counter (label lookups cost a lock each)."""
        self.running = asyncio.Event()
        self.postgres = Availability("postgres")
        """Postgres as this gateway sees it (the tail, the lag watcher and /readyz report)."""

    async def run(self, retry_after: float = 1.0) -> None:
        """Tail the outbox from the live head (never the whole history) and fan out; after a
        lost connection, continue from the last position fanned out (no gap)."""
        self.position = await self._reader.head()
        while True:
            self.running.set()
            try:
                async for page in self._reader.pages(self.position):
                    traces = await self._traces(page)
                    for stored in page:
                        traced = traces.get(stored.position)
                        if traced is None:
                            self.publish(stored)
                        else:
                            self._publish_traced(stored, traced)
                    self.flush()
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                # Logged once per outage (the retries are not), resuming after self.position.
                self.postgres.lost(exc)
            finally:
                self.running.clear()
            await asyncio.sleep(retry_after)

    async def _traces(self, page: list[StoredEvent]) -> dict[int, str]:
        if self._tracer is None or not page:
            return {}
        return await self._reader.trace_contexts([stored.position for stored in page])

    def _publish_traced(self, stored: StoredEvent, traceparent: str) -> None:
        """`publish` continuing the writer's trace: `outbox.sequence` (from the row's
        insert to this gateway reading it) and `gateway.fanout`, with a `socket.send` per
        socket the event is queued to."""
        assert self._tracer is not None
        parent = context_of(traceparent)
        attributes: dict[str, str | int] = {
            "event.position": stored.position,
            "event.type": stored.type,
        }
        self._tracer.start_span(
            "outbox.sequence",
            context=parent,
            start_time=int(stored.created_at * 1e9),
            attributes=attributes,
        ).end()
        with self._tracer.start_as_current_span(
            "gateway.fanout", context=parent, attributes=attributes
        ):
            self._tracing_sends = True
            try:
                self.publish(stored)
            finally:
                self._tracing_sends = False

    def publish(self, stored: StoredEvent) -> None:
        """Fan one event out (call `flush` after a page of them)."""
        self.position = stored.position
        emitted = self._emitted.get(stored.type)
        if emitted is None:
            emitted = self._emitted[stored.type] = self._metrics.events_emitted.labels(stored.type)
        emitted.inc()
        self._metrics.commit_to_emit.observe(max(0.0, time.time() - stored.created_at))
        frame = self._transport.frame(arguments(stored))
        sent = 0
        for sid in self._transport.members(stored.channels):
            conn = self.connections.get(sid)
            if conn is None:
                continue
            if conn.held is not None:
                # The socket's replay is running: everything else it gets waits behind it.
                conn.held.append((stored, frame))
                if len(conn.held) > 10 * self._config.limits.socket_max_queue:
                    self._drop_slow(conn)
            else:
                sent += self._send(conn, stored, frame)
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

    def flush(self) -> None:
        """Send every batching socket's pending envelopes (after each page of the tail)."""
        dirty, self._dirty = self._dirty, []
        for conn in dirty:
            self._flush(conn)

    def _send(self, conn: Connection, stored: StoredEvent, frame: Frame) -> int:
        if self._tracing_sends and self._tracer is not None:
            # Queued to the socket now (or to its next batched frame).
            self._tracer.start_span(
                "socket.send", attributes={"socket.sid": conn.sid, "user.id": conn.user_id}
            ).end()
        if not conn.batch:
            return self._put(conn, frame)
        if conn.slow or conn.closed:
            self._metrics.failed_deliveries.labels("closed").inc()
            return 0
        if not conn.pending:
            self._dirty.append(conn)
        conn.pending.append(stored.json)
        if len(conn.pending) >= conn.batch:
            self._flush(conn)
        return 1

    def _flush(self, conn: Connection) -> None:
        if conn.pending:
            body = ",".join(conn.pending)
            conn.pending.clear()
            self._put(conn, self._transport.frame(f'["events",[{body}]]'))

    def _put(self, conn: Connection, frame: Frame) -> int:
        depth = None if conn.slow else conn.outlet.depth()
        if depth is None:
            self._metrics.failed_deliveries.labels("closed").inc()
            return 0
        if depth >= self._config.limits.socket_max_queue:
            self._drop_slow(conn)
            return 0
        conn.outlet.enqueue(frame)
        return 1

    def _drop_slow(self, conn: Connection) -> None:
        if conn.slow:
            return
        conn.slow = True
        self._metrics.failed_deliveries.labels("slow").inc()
        log.info("socket %s (user %s) cannot keep up: disconnecting", conn.sid, conn.user_id)
        task = asyncio.ensure_future(conn.outlet.sever("slow"))
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)

    # -- sockets ---------------------------------------------------------------------

    def connect(
        self,
        sid: str,
        user_id: str,
        *,
        after: int | None = None,
        batch: bool = False,
        replay: Held | None = None,
        inbox: Sequence[str] = (),
    ) -> Connection:
        """Register a socket and join its user channel and its `inbox` channels (the prompts
        assigned to the user, docs/teams.md), which together are the user's own (call with no
        await after it); the inbox channels do not count as subscriptions.

        With `after` the connect is a resume: the user's channels' events after it are
        replayed before any live event, so the socket's positions increase from its first."""
        outlet = self._transport.outlet(sid)
        conn = Connection(sid, outlet, user_id, self._config.batch_max if batch else 0)
        self.connections[sid] = conn
        rooms = (user_channel(user_id), *inbox)
        for room in rooms:
            self._transport.join(sid, room)
            conn.joined[room] = self.position
        conn.inbox = len(inbox)
        if after is not None:
            conn.held = []  # from now: live events wait for the replay
            # The task runs after the handler returns, so after the CONNECT packet is queued;
            # it takes the socket's lock before any subscribe of the socket can.
            task = asyncio.ensure_future(self._resume_on_connect(conn, rooms, after, replay))
            _tasks.add(task)
            task.add_done_callback(_tasks.discard)
        return conn

    async def _resume_on_connect(
        self, conn: Connection, rooms: Sequence[str], after: int, replay: Held | None
    ) -> None:
        try:
            async with conn.lock:
                self._metrics.reconnects.inc()
                await self._resume(conn, tuple(rooms), after, replay)
        except GatewayError as exc:
            # Over the replayed-bytes budget midway: the client resumes from what it got.
            log.info("replay on connect of socket %s refused (%s); disconnecting it", conn.sid, exc)
            conn.held = None
            self._drop_slow(conn)
        except Exception:
            # The socket would miss events: end it, the client reconnects and resumes.
            log.exception("replay on connect of socket %s failed; disconnecting it", conn.sid)
            conn.held = None
            self._drop_slow(conn)
        finally:
            if replay is not None:
                replay.release()

    def disconnect(self, sid: str) -> None:
        conn = self.connections.pop(sid, None)
        if conn is not None:
            conn.closed = True
            conn.pending.clear()
            self._uncharge(conn, conn.charged)

    def _uncharge(self, conn: Connection, count: int) -> None:
        count = min(count, conn.charged)
        conn.charged -= count
        self._budgets.release(conn.user_id, self._user_limits.channels, count)

    async def subscribe(
        self,
        conn: Connection,
        channels: Sequence[str],
        after: int | None,
        *,
        batch: bool = False,
    ) -> SubscribeAck:
        """Join `channels`; with `after` (one cursor for all of them), first replay their
        events after that position, in position order, each once."""
        async with conn.lock:
            if batch:
                conn.batch = self._config.batch_max
            new = [ch for ch in dict.fromkeys(channels) if ch not in conn.joined]
            if (
                len(conn.joined) - conn.inbox + len(new)
                > self._config.limits.socket_max_subscriptions
            ):
                raise GatewayError(
                    "bad_request",
                    f"at most {self._config.limits.socket_max_subscriptions} subscriptions per connection",
                )
            if new:
                await self._budgets.hold(conn.user_id, self._user_limits.channels, len(new))
                conn.charged += len(new)
            if conn.closed:  # disconnected meanwhile (its charge is given back)
                self._uncharge(conn, len(new))
                raise GatewayError("bad_request", "the socket is closing")
            if after is None:
                for channel in new:
                    self._transport.join(conn.sid, channel)
                    conn.joined[channel] = self.position
                # Whatever the socket was sent before leaves ahead of the ack.
                self._flush(conn)
                return SubscribeAck(
                    channel=channels[0],
                    channels=list(channels),
                    position=self.position,
                    replayed=0,
                    recovered=True,
                )
            self._metrics.reconnects.inc()
            try:
                return await self._resume(conn, tuple(dict.fromkeys(channels)), after)
            except BaseException:
                self._uncharge(conn, len(new))
                raise

    async def _resume(
        self,
        conn: Connection,
        channels: tuple[str, ...],
        after: int,
        replay: Held | None = None,
    ) -> SubscribeAck:
        """Replay `channels` after `after` and join them; the replay holds one of the user's
        replay slots (`replay`, taken already, or one taken here)."""
        upto = self.position
        previous = {ch: conn.joined.pop(ch) for ch in channels if ch in conn.joined}
        # What the socket has (or will get) from elsewhere; the replay skips it.
        covered = {**conn.joined, **previous}
        if conn.held is None:
            conn.held = []
        for ch in channels:
            if ch not in previous:
                self._transport.join(conn.sid, ch)
        try:
            slot = replay or await self.replays.take(conn.user_id)
            try:
                pages = self.replays.pages(conn.user_id)
                replayed, recovered = await self._replay(
                    conn, pages, channels, after, upto, covered
                )
            finally:
                slot.release()
        except BaseException:
            held, conn.held = conn.held, None
            for ch in channels:
                if ch in previous:
                    conn.joined[ch] = previous[ch]
                else:
                    self._transport.leave(conn.sid, ch)
            for stored, frame in held:  # what the socket's other rooms still owe it
                if any(ch in conn.joined for ch in stored.channels):
                    self._send(conn, stored, frame)
            self._flush(conn)
            raise
        # From here to the end: no await, so no live event can slip between.
        held, conn.held = conn.held, None
        released = self._release(conn, held, channels, after)
        last = max(after, upto, held[-1][0].position if held else 0)
        for ch in channels:
            conn.joined[ch] = min(after, upto, previous.get(ch, upto))
        self._flush(conn)  # ahead of the ack
        self._metrics.deliveries.inc(replayed + released)
        return SubscribeAck(
            channel=channels[0],
            channels=list(channels),
            position=last,
            replayed=replayed + released,
            recovered=recovered,
        )

    def _release(
        self,
        conn: Connection,
        held: list[tuple[StoredEvent, Frame]],
        channels: tuple[str, ...],
        after: int,
    ) -> int:
        """Send the live events held during a replay, in order; those of the replayed channels
        up to `after` the client has already."""
        sent = 0
        for stored, frame in held:
            if stored.position > after or not any(ch in channels for ch in stored.channels):
                sent += self._send(conn, stored, frame)
        return sent

    async def _replay(
        self,
        conn: Connection,
        pages: ReplaySource,
        channels: tuple[str, ...],
        after: int,
        upto: int,
        covered: dict[str, int],
    ) -> tuple[int, bool]:
        """Send the channels' events in (after, upto] the socket did not get; return how many
        were sent and whether history since `after` was complete."""
        replayed = 0
        cursor = after
        recovered = True
        first = True
        query: str | tuple[str, ...] = channels[0] if len(channels) == 1 else channels
        while (first or cursor < upto) and not (conn.closed or conn.slow):
            page = await pages.replay(cursor, query, self._page)
            if first:
                recovered, first = page.recovered, False
            for stored in page.events:
                if stored.position > upto:
                    self._flush(conn)
                    return replayed, recovered
                cursor = stored.position
                if any(covered.get(ch, upto) < stored.position for ch in stored.channels):
                    continue
                replayed += self._send(conn, stored, self._transport.frame(arguments(stored)))
            self._flush(conn)
            if len(page.events) < self._page:
                break
            await self._drained(conn)
        return replayed, recovered

    async def _drained(self, conn: Connection) -> None:
        try:
            await asyncio.wait_for(conn.outlet.drained(), self._config.slow_timeout)
        except TimeoutError:
            self._drop_slow(conn)

    async def unsubscribe(self, conn: Connection, channel: str) -> None:
        async with conn.lock:
            if conn.joined.pop(channel, None) is not None:
                self._transport.leave(conn.sid, channel)
                if channel != user_channel(conn.user_id):
                    self._uncharge(conn, 1)

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
