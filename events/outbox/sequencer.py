"""The sequencer: gives final outbox rows dense, increasing positions.

A row is final when its writing transaction is below the snapshot's xmin: every transaction
that could still commit a row with a smaller (txid, seq) has ended. Rows are numbered in
(txid, seq) order, so one transaction's events keep the order they were emitted in, and a
late commit can never be skipped by a reader that follows positions.

Exactly one sequencer is active: it holds a session advisory lock on its own connection.
Standbys try for the lock every `standby_poll` seconds, and at once when a leader steps down
(it unlocks and notifies). They never wait inside `pg_advisory_lock`: a statement blocked
there holds a snapshot for as long as it waits, which holds back vacuum's horizon for the
whole database and makes every `CREATE INDEX CONCURRENTLY` wait until it times out. The
`outbox_sequencer` row lock makes a batch safe even without the advisory lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, NamedTuple

import asyncpg

from flowmaestro.events.outbox.availability import Availability
from flowmaestro.events.outbox.channels import SEQUENCED, STEPPED_DOWN, WRITTEN
from flowmaestro.events.outbox.lag import read_lag
from flowmaestro.waiting import wait_set

if TYPE_CHECKING:
    from flowmaestro.events.outbox.connection import Connection
    from flowmaestro.events.outbox.sink import BatchSink

log = logging.getLogger(__name__)

# pg_advisory_lock key: "FMSEQ" as an integer, so it cannot collide with the migrator's.
LOCK_KEY = 0x464D534551
# A batch whose rows fit in this many bytes travels in the NOTIFY itself (the limit is 8000).
PAYLOAD_BYTES = 7900
# A batch that numbers the rows of this many transactions keeps the sequencer awake: commits
# arrive faster than it turns around, so it calls again at once and emitters stop notifying.
AWAKE_AT = 2
# While falling asleep it polls at most this far apart: an emitter that saw it awake and
# commits late (a long transaction) is sequenced within this of its commit.
SETTLING_POLL = 0.01


class Batch(NamedTuple):
    """What one sequencing call did: rows numbered; whether committed rows still wait (behind
    an open transaction); whether it stays awake (call again at once: emitters do not notify
    meanwhile); whether it is falling asleep (call again within milliseconds, no NOTIFY
    comes for an emitter that saw it awake)."""

    numbered: int
    pending: bool
    awake: bool
    settling: bool


async def sequence_once(
    con: Connection,
    batch_size: int = 5000,
    *,
    payload_bytes: int = PAYLOAD_BYTES,
    awake_at: int = AWAKE_AT,
) -> Batch:
    """Sequence one batch of final rows in one transaction.

    The batch is the `outbox_sequence` SQL function (migrations 0007, 0021): it locks the
    state row, numbers the final rows, indexes them by channel, NOTIFYs once (with the rows
    themselves when they fit), keeps the `sleeping` flag emitters read, and reports what the
    loop must do next, in one round trip. `payload_bytes` 0 never carries rows and
    `awake_at` 0 never stays awake: the wake-ups of the previous release, which `bench tails`
    measures against.
    """
    row = await con.fetchrow(
        "SELECT * FROM outbox_sequence($1, $2, $3, $4)",
        batch_size,
        SEQUENCED,
        payload_bytes,
        awake_at,
    )
    assert row is not None
    return Batch(
        int(row["numbered"]), bool(row["pending"]), bool(row["awake"]), bool(row["settling"])
    )


class Published(NamedTuple):
    """A batch as `sequence_published` returns it: the batch, the new head, and its rows as
    lines (None when empty or over the limit)."""

    batch: Batch
    head: int
    lines: str | None


async def sequence_published(
    con: Connection,
    publish_bytes: int,
    batch_size: int = 5000,
    *,
    payload_bytes: int = PAYLOAD_BYTES,
    awake_at: int = AWAKE_AT,
) -> Published:
    """`sequence_once`, also returning the batch's rows for a broker, in the same round trip
    and transaction (migration 0022)."""
    row = await con.fetchrow(
        "SELECT * FROM outbox_sequence_published($1, $2, $3, $4, $5)",
        batch_size,
        SEQUENCED,
        payload_bytes,
        awake_at,
        publish_bytes,
    )
    assert row is not None
    batch = Batch(
        int(row["numbered"]), bool(row["pending"]), bool(row["awake"]), bool(row["settling"])
    )
    return Published(batch, int(row["head"]), row["lines"])


class Sequencer:
    """Runs the sequencing loop on a dedicated connection until `stop()` or cancellation.

    Woken by a NOTIFY from each writing transaction while it sleeps; under load it stays
    awake and calls again at once, and emitters skip the NOTIFY (migration 0021). Polls every
    `poll_interval` seconds as a fallback, and sooner (backing off from 2 ms) while rows wait
    behind an open transaction or while it falls asleep. A standby tries for leadership every
    `standby_poll` seconds, and at once when the leader steps down.

    With a `sink` (a broker publisher), each batch is also handed to it after its commit:
    the process that numbers a batch publishes it, with no NOTIFY and no read between.
    """

    def __init__(
        self,
        dsn: str,
        *,
        batch_size: int = 5000,
        poll_interval: float = 1.0,
        standby_poll: float = 0.5,
        stall_warning_after: float = 10.0,
        payload_bytes: int = PAYLOAD_BYTES,
        awake_at: int = AWAKE_AT,
        sink: BatchSink | None = None,
    ) -> None:
        self._dsn = dsn
        self._sink = sink
        self._token = ""
        self._batch_size = batch_size
        self._batching = {"payload_bytes": payload_bytes, "awake_at": awake_at}
        self._poll_interval = poll_interval
        self._standby_poll = standby_poll
        self._stall_warning_after = stall_warning_after
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self.active = asyncio.Event()
        """Set while this instance holds the lock and sequences."""
        self.backend_pid: int | None = None
        self.session = Availability("the sequencer's Postgres session")

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Wait for leadership, then sequence until stopped. Reconnects after a lost session."""
        while not self._stopping.is_set():
            try:
                await self._lead()
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                # A terminated session, a restarted server: lose leadership, wait, retry
                # (logged once per outage, not per attempt).
                self.active.clear()
                self.session.lost(exc)
                await wait_set(self._stopping, self._poll_interval)

    async def _lead(self) -> None:
        con: asyncpg.Connection = await asyncpg.connect(self._dsn)
        self.session.back()
        leading = False
        try:
            self.backend_pid = con.get_server_pid()
            leading = await self._stand_by(con)
            if not leading:
                return
            # Positions are a pure function of the committed rows (numbered in (txid, seq)
            # order, below the xmin horizon), so a batch lost in a crash before its WAL flush
            # is renumbered identically (emitters commit synchronously, so its rows survive):
            # waiting for this commit's flush would buy nothing but latency.
            await con.execute("SET synchronous_commit = off")
            self._token = str(await con.fetchval("SELECT notify_token FROM outbox_sequencer"))
            await con.add_listener(WRITTEN, self._on_notify)
            self.active.set()
            log.info("sequencer active (backend pid %s)", self.backend_pid)
            await self._loop(con)
        finally:
            self.active.clear()
            with contextlib.suppress(Exception):
                await asyncio.shield(self._close(con, leading))

    async def _stand_by(self, con: asyncpg.Connection) -> bool:
        """Poll for the lock until it is ours (True) or we are stopped (False). Between tries
        the session is idle and holds no snapshot. (The listener stays: once leading, nobody
        else can step down.)"""
        await con.add_listener(STEPPED_DOWN, self._on_notify)
        while not self._stopping.is_set():
            self._wake.clear()
            if await con.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY):
                return True
            await wait_set(self._wake, self._standby_poll)
        return False

    @staticmethod
    async def _close(con: asyncpg.Connection, leading: bool) -> None:
        try:
            if leading:
                # Unlocked before the notify is delivered (at this statement's commit), so a
                # standby woken by it finds the lock free: a handover without a poll's wait.
                await con.execute(
                    "SELECT pg_advisory_unlock($1), pg_notify($2, '')", LOCK_KEY, STEPPED_DOWN
                )
        finally:
            await con.close(timeout=2)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _loop(self, con: asyncpg.Connection) -> None:
        backoff = settle_backoff = 0.0
        loop = asyncio.get_running_loop()
        stalled_since: float | None = None
        warned_at = 0.0
        while not self._stopping.is_set():
            self._wake.clear()
            batch = await self._sequence(con)
            while batch.numbered == self._batch_size:
                batch = await self._sequence(con)
            if batch.awake:
                backoff, stalled_since = 0.0, None
                continue
            if batch.pending:
                # Rows wait behind an open transaction, whose end may not notify us: poll,
                # backing off while nothing moves (stalled, not merely busy).
                now = loop.time()
                if batch.numbered or stalled_since is None:
                    backoff, stalled_since = 0.0, now
                backoff = min(max(backoff * 2, 0.002), self._poll_interval)
                timeout = backoff
                if now - stalled_since > self._stall_warning_after and now - warned_at > 10:
                    warned_at = now
                    await self._warn_stalled(con)
            else:
                backoff, timeout, stalled_since = 0.0, self._poll_interval, None
            if batch.settling:
                # Not a stall: only a transaction that may be an emitter is still open.
                settle_backoff = min(max(settle_backoff * 2, 0.002), SETTLING_POLL)
                timeout = min(timeout, settle_backoff)
            else:
                settle_backoff = 0.0
            await wait_set(self._wake, timeout)

    async def _sequence(self, con: asyncpg.Connection) -> Batch:
        if self._sink is None:
            return await sequence_once(con, self._batch_size, **self._batching)
        published = await sequence_published(
            con, self._sink.publish_bytes, self._batch_size, **self._batching
        )
        if published.batch.numbered:
            await self._sink.sequenced(published.head, self._token, published.lines)
        return published.batch

    async def _warn_stalled(self, con: asyncpg.Connection) -> None:
        lag = await read_lag(con)
        log.warning(
            "outbox sequencing stalled: %d committed events wait (oldest %.1fs) behind an open "
            "transaction of backend pid %s, open for %.1fs",
            lag.unsequenced,
            lag.oldest_unsequenced_seconds,
            lag.blocking_pid,
            lag.blocking_transaction_seconds or 0.0,
        )
