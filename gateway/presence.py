"""Presence: who is watching an execution or knowledge-base channel, by user, across every
gateway; `presence:join` / `presence:leave` as that changes.

The gateways share nothing but Postgres (the product's one store), so presence lives there:
each gateway writes, per channel and user, how many of its own sockets watch, under a lease
it renews every heartbeat; every write NOTIFYs the channel's name, and every gateway with
watchers of that channel re-reads who is there and tells its sockets what changed. A gateway
that dies (even by SIGKILL) stops renewing: the next heartbeat of any other deletes its
expired lease, its rows go with it (ON DELETE CASCADE), and the channels they named are
notified, so their watchers get `presence:leave`. Presence changes are rare (a user opening
or closing a page), so one NOTIFY per change costs little next to the outbox's traffic.

With a broker, the signal goes over it instead (`link`, signed like the outbox's batches),
and a gateway LISTENs only while its link is down: a listening backend is woken by every
NOTIFY of the database, the sequencer's included, so N gateways listening cost Postgres N
wake-ups per batch. Every write still NOTIFYs, so a gateway that fell back misses nothing;
it reads every channel it follows again when it starts listening. A gateway whose link is
down keeps the channels it changed and publishes them when the link is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import asyncpg

from flowmaestro.broker import BrokerUnavailable, decode_channels, encode_channels
from flowmaestro.events.outbox.availability import is_outage
from flowmaestro.events.protocol import PresenceChange
from flowmaestro.waiting import wait_set

if TYPE_CHECKING:
    from collections.abc import Coroutine, Iterable

    from flowmaestro.broker import Link
    from flowmaestro.events.outbox import Availability
    from flowmaestro.gateway.hub import Connection
    from flowmaestro.gateway.lease import GatewayLease
    from flowmaestro.gateway.transport import SocketServer

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "flowmaestro_presence"
KINDS = ("execution:", "kb:")
"""The channel kinds with presence (the user channel's watchers are that user)."""
MAX_LISTED = 200
"""At most this many users are listed or followed per channel (an ack stays small)."""

_SET = """
WITH written AS (
    INSERT INTO presence (channel, user_id, gateway_id, connections) VALUES ($1, $2, $3, $4)
    ON CONFLICT (channel, user_id, gateway_id) DO UPDATE SET connections = EXCLUDED.connections
)
SELECT pg_notify($5, $1)
"""
_CLEAR = """
WITH gone AS (
    DELETE FROM presence WHERE channel = $1 AND user_id = $2 AND gateway_id = $3
)
SELECT pg_notify($4, $1)
"""
# Leases past their time: delete them (and by the cascade their rows); notify the channels
# (and name them, for the broker).
_SWEEP = """
WITH gone AS (
    DELETE FROM presence p USING gateway_leases l
    WHERE p.gateway_id = l.gateway_id AND l.expires_at < now() RETURNING p.channel
), dead AS (
    DELETE FROM gateway_leases WHERE expires_at < now() RETURNING gateway_id
)
SELECT channel, pg_notify($1, channel) FROM (SELECT DISTINCT channel FROM gone) c
"""
_TOKEN = "SELECT notify_token FROM outbox_sequencer"
# A presence signal's kind and signature, in front of its channels.
_SIGNAL_HEADER_BYTES = 128
_WATCHERS = """
SELECT p.user_id, sum(p.connections)::int FROM presence p JOIN gateway_leases l USING (gateway_id)
WHERE p.channel = $1 AND l.expires_at > now()
GROUP BY p.user_id ORDER BY p.user_id LIMIT $2
"""
_RELEASE = """
WITH gone AS (DELETE FROM presence WHERE gateway_id = $1 RETURNING channel),
     lease AS (DELETE FROM gateway_leases WHERE gateway_id = $1)
SELECT channel, pg_notify($2, channel) FROM (SELECT DISTINCT channel FROM gone) c
"""


def has_presence(channel: str) -> bool:
    return channel.startswith(KINDS)


def others(counts: dict[str, int], user_id: str) -> list[str]:
    """Who a socket of `user_id` sees watching besides itself, given each user's count of
    connections (its own included)."""
    return [u for u, n in counts.items() if n - (1 if u == user_id else 0) > 0]


class Presence:
    """Run `run()` for the gateway's lifetime; call `join`/`leave` as sockets come and go."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        server: SocketServer,
        *,
        heartbeat: float,
        lease: GatewayLease,
        postgres: Availability,
        link: Link | None = None,
    ) -> None:
        self._pool = pool
        self._link = link
        self._token: str | None = None
        """The outbox's notify_token, which signs what goes over the broker."""
        self._brokered = False
        """The link is up: changes are published on it, and nobody here LISTENs."""
        self._unsent: set[str] = set()
        """Channels changed here while the link was down: published when it is back."""
        self._switched = asyncio.Event()
        self._postgres = postgres
        self._server = server
        self._heartbeat = heartbeat
        self._lease = lease
        self.gateway_id = lease.gateway_id
        lease.on_new(self._restore)
        self._members: dict[str, dict[str, set[str]]] = {}
        """channel -> user -> this gateway's sockets (sids) watching it."""
        self._watching: dict[str, set[str]] = {}
        """sid -> the channels it watches (a socket's leave costs its own channels)."""
        self._counts: dict[str, dict[str, int]] = {}
        """channel -> user -> connections everywhere, as last read."""
        self._write = asyncio.Lock()
        self._stale: set[str] = set()
        self._refreshing = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    # -- sockets -----------------------------------------------------------------------

    async def join(self, conn: Connection, channel: str) -> list[str]:
        """`conn` watches `channel`: record it; who else watches it, by user."""
        users = self._members.setdefault(channel, {})
        sids = users.setdefault(conn.user_id, set())
        if conn.sid not in sids:
            sids.add(conn.sid)
            self._watching.setdefault(conn.sid, set()).add(channel)
            await self._store(channel, conn.user_id)
        counts = await self._read(channel)
        return others(counts, conn.user_id)

    async def leave(self, conn: Connection, channel: str) -> None:
        users = self._members.get(channel, {})
        sids = users.get(conn.user_id, set())
        if conn.sid not in sids:
            return
        sids.discard(conn.sid)
        watching = self._watching.get(conn.sid)
        if watching is not None:
            watching.discard(channel)
            if not watching:
                del self._watching[conn.sid]
        if not sids:
            del users[conn.user_id]
        if not users:
            self._members.pop(channel, None)
            self._counts.pop(channel, None)
        await self._store(channel, conn.user_id)

    async def leave_all(self, conn: Connection) -> None:
        """A socket closed: it watches nothing any more."""
        for channel in list(self._watching.get(conn.sid, ())):
            await self.leave(conn, channel)

    # -- the lifetime --------------------------------------------------------------------

    async def run(self) -> None:
        """Hold the lease, sweep others' expired ones, and follow every gateway's changes."""
        listener: Any = None
        tasks = [asyncio.create_task(self._refresh_forever())]
        try:
            while True:
                try:
                    if self._link is not None and self._token is None:
                        self._token = str(await self._pool.fetchval(_TOKEN))
                        tasks.append(
                            asyncio.create_task(self._link.run(self._on_message, self._on_link))
                        )
                    if self._brokered:
                        await self._dropped(listener)
                        listener = None
                    elif listener is None or listener.is_closed():
                        listener = await self._listen()
                    await self._lease.renew()
                    self._signal(r[0] for r in await self._pool.fetch(_SWEEP, NOTIFY_CHANNEL))
                except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                    if is_outage(exc):
                        # Logged once per outage by the process's Postgres availability.
                        self._postgres.lost(exc)
                    else:
                        log.warning("presence heartbeat failed (%s); retrying", exc)
                    await self._dropped(listener)
                    listener = None
                await wait_set(self._switched, self._heartbeat)
                self._switched.clear()
        finally:
            await self._dropped(listener)
            with contextlib.suppress(Exception):
                released = await asyncio.wait_for(
                    self._pool.fetch(_RELEASE, self.gateway_id, NOTIFY_CHANNEL), 5
                )
                # Before the link goes: brokered gateways hear of our leaving from it alone.
                await asyncio.wait_for(self._publish([r[0] for r in released]), 2)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- the broker ----------------------------------------------------------------------

    def _on_link(self, up: bool, reason: str | None) -> None:
        if up == self._brokered:
            return
        self._brokered = up
        if up:
            log.info("presence: signals over the broker")
            # Ours, changed while the link was down, are owed to the others. Theirs reached us
            # by LISTEN, unless the link was back before we listened: read everything again.
            unsent, self._unsent = sorted(self._unsent), set()
            self._spawn(self._publish(unsent))
            self._mark_stale(*self._members)
        else:
            log.warning("presence: broker lost (%s); listening on postgres", reason)
        self._switched.set()  # LISTEN (or stop listening) now, not at the next heartbeat

    def _on_message(self, data: bytes) -> None:
        channels = decode_channels(data, self._token or "")
        if channels is None:
            log.debug("ignored a presence message that is forged or malformed")
            return
        self._mark_stale(*(c for c in channels if c in self._members))

    def _signal(self, channels: Iterable[str]) -> None:
        """Tell the other gateways over the broker (Postgres was told by the write's NOTIFY)."""
        if self._link is None:
            return
        changed = list(channels)
        if not changed:
            return
        if self._brokered:
            self._spawn(self._publish(changed))
        else:
            self._unsent.update(changed)

    async def _publish(self, channels: list[str]) -> None:
        """`channels` over the broker, in as few messages as its payload limit allows."""
        if self._link is None or self._token is None:
            return
        room = self._link.max_payload - _SIGNAL_HEADER_BYTES
        chunk: list[str] = []
        size = 0
        for channel in channels:
            length = len(channel.encode()) + 1
            if chunk and size + length > room:
                await self._send(chunk)
                chunk, size = [], 0
            chunk.append(channel)
            size += length
        if chunk:
            await self._send(chunk)

    async def _send(self, channels: list[str]) -> None:
        assert self._link is not None and self._token is not None
        try:
            await self._link.publish(encode_channels(self._token, channels))
        except BrokerUnavailable:
            self._unsent.update(channels)  # published when the link is back

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _listen(self) -> Any:
        listener = await self._pool.acquire()
        try:
            await listener.add_listener(NOTIFY_CHANNEL, self._on_notify)
        except BaseException:
            # Cancelled (a shutdown) or failed before the caller holds it: given back here.
            await self._dropped(listener)
            raise
        # Missed while not listening: read every followed channel again.
        self._mark_stale(*self._members)
        return listener

    async def _dropped(self, listener: Any) -> None:
        if listener is not None:
            with contextlib.suppress(Exception):
                await listener.remove_listener(NOTIFY_CHANNEL, self._on_notify)
            with contextlib.suppress(Exception):
                await self._pool.release(listener)

    async def _restore(self) -> None:
        """A new lease (the first, or after ours expired while Postgres was away): what was
        written under the old one is gone; write it again."""
        for channel, users in list(self._members.items()):
            for user_id in list(users):
                await self._store(channel, user_id)

    def _on_notify(self, _: object, __: int, ___: str, payload: object) -> None:
        channel = str(payload)
        if channel in self._members:
            self._mark_stale(channel)

    def _mark_stale(self, *channels: str) -> None:
        self._stale.update(channels)
        self._refreshing.set()

    async def _refresh_forever(self) -> None:
        while True:
            await self._refreshing.wait()
            self._refreshing.clear()
            stale, self._stale = self._stale, set()
            for channel in stale:
                if channel in self._members:
                    try:
                        await self._read(channel)
                    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                        log.warning("cannot read presence of %s: %s", channel, exc)

    # -- storage -------------------------------------------------------------------------

    async def _store(self, channel: str, user_id: str) -> None:
        """Write this gateway's current count for (channel, user): the latest count wins,
        because writes are serialised and read the count when they run."""
        async with self._write:
            count = len(self._members.get(channel, {}).get(user_id, ()))
            if count:
                await self._pool.execute(
                    _SET, channel, user_id, self.gateway_id, count, NOTIFY_CHANNEL
                )
            else:
                await self._pool.execute(_CLEAR, channel, user_id, self.gateway_id, NOTIFY_CHANNEL)
        self._signal((channel,))

    async def _read(self, channel: str) -> dict[str, int]:
        """Who watches `channel` now; tell this gateway's watchers what changed."""
        rows = await self._pool.fetch(_WATCHERS, channel, MAX_LISTED)
        counts = {row[0]: row[1] for row in rows}
        users = self._members.get(channel)
        if users is None:
            return counts
        before = self._counts.get(channel)
        self._counts[channel] = counts
        if before is not None:
            for user_id, sids in users.items():
                seen, now = set(others(before, user_id)), set(others(counts, user_id))
                for sid in sids:
                    for joined in sorted(now - seen):
                        self._emit("presence:join", channel, joined, sid)
                    for left in sorted(seen - now):
                        self._emit("presence:leave", channel, left, sid)
        return counts

    def _emit(self, event: str, channel: str, user_id: str, sid: str) -> None:
        data: Any = PresenceChange(channel=channel, user_id=user_id).model_dump(mode="json")
        self._spawn(self._server.emit(event, data, to=sid))
