"""The outbox's central promise: every committed event exactly once, densely, in order."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
import uuid
from collections import defaultdict
from typing import TYPE_CHECKING

import asyncpg
import pytest

from flowmaestro.events import NodeProgress
from flowmaestro.events.outbox import (
    OutboxReader,
    PostgresEmitter,
    Sequencer,
    read_lag,
    sequence_once,
    write_events,
)
from flowmaestro.events.outbox.channels import SEQUENCED, WRITTEN
from tests.events.outbox.conftest import running
from tests.events.outbox.helpers import arrival, collect, until

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from flowmaestro.events.outbox import StoredEvent
    from flowmaestro.events.outbox.connection import Connection
    from flowmaestro.events.outbox.sequencer import Batch


def progress(writer: int, n: int) -> NodeProgress:
    return NodeProgress(
        user_id="u1",
        execution_id=f"ex_{writer}",
        data={"node_id": f"w{writer}", "progress": 0, "step": str(n)},
    )


async def concurrent_writers(
    pool: asyncpg.Pool, writers: int, transactions: int, seed: int
) -> tuple[dict[int, list[uuid.UUID]], set[uuid.UUID]]:
    """Writers hold transactions open for random times; about a fifth roll back.

    Returns each writer's committed ids in emission order, and all rolled-back ids.
    """
    rng = random.Random(seed)
    committed: dict[int, list[uuid.UUID]] = defaultdict(list)
    rolled_back: set[uuid.UUID] = set()

    class Rollback(Exception):
        pass

    async def writer(w: int) -> None:
        counter = 0
        for _ in range(transactions):
            batch = []
            for _ in range(rng.randint(1, 4)):
                batch.append(progress(w, counter))
                counter += 1
            hold = rng.uniform(0, 0.03)
            abort = rng.random() < 0.2
            try:
                async with pool.acquire() as con, con.transaction():
                    await write_events(con, batch[:1])
                    await asyncio.sleep(hold)  # the workload: a transaction left open
                    await write_events(con, batch[1:])
                    if abort:
                        raise Rollback
            except Rollback:
                rolled_back.update(e.id for e in batch)
            else:
                committed[w].extend(e.id for e in batch)

    await asyncio.gather(*(writer(w) for w in range(writers)))
    return committed, rolled_back


def check_exactly_once(
    seen: list[StoredEvent],
    committed: dict[int, list[uuid.UUID]],
    rolled_back: set[uuid.UUID],
) -> None:
    ids = [uuid.UUID(s.envelope["id"]) for s in seen]
    assert len(ids) == len(set(ids)), "an event was delivered twice"
    assert set(ids) == {i for per in committed.values() for i in per}
    assert not set(ids) & rolled_back
    assert [s.position for s in seen] == list(range(1, len(seen) + 1)), "positions not dense"
    order = {i: n for n, i in enumerate(ids)}
    for w, per_writer in committed.items():
        assert sorted(per_writer, key=order.__getitem__) == per_writer, f"writer {w} reordered"


async def test_32_concurrent_writers_no_gap_no_duplicate(
    pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    reader = OutboxReader(pool, poll_interval=0.2)
    tail_task = asyncio.create_task(collect(reader, 10**9, timeout=60))
    committed, rolled_back = await concurrent_writers(pool, 32, 12, seed=7)
    total = sum(len(v) for v in committed.values())
    assert rolled_back, "the workload must include rollbacks"
    seen = await collect(reader, total)
    tail_task.cancel()
    check_exactly_once(seen, committed, rolled_back)
    assert await reader.head() == total


async def test_a_batch_stopping_inside_a_transaction_resumes_there(pool: asyncpg.Pool) -> None:
    big = [progress(1, n) for n in range(12)]
    small = [progress(2, n) for n in range(3)]
    for events in (big, small):
        async with pool.acquire() as con, con.transaction():
            await write_events(con, events)
    async with pool.acquire() as con:
        batches = [await sequence_once(con, 5) for _ in range(4)]
    assert [b.numbered for b in batches] == [5, 5, 5, 0]
    # The third batch holds both transactions' rows: the sequencer stays awake through it,
    # and the empty fourth starts it falling asleep.
    assert [b.pending for b in batches] == [True, True, False, False]
    assert [b.awake for b in batches] == [False, False, True, False]
    assert [b.settling for b in batches] == [False, False, False, True]
    seen = await OutboxReader(pool).read_after(0, limit=100)
    assert [uuid.UUID(s.envelope["id"]) for s in seen] == [e.id for e in big + small]
    assert [s.position for s in seen] == list(range(1, 16))


async def test_a_horizon_from_another_xid_space_is_not_trusted(pool: asyncpg.Pool) -> None:
    # As after restoring a dump into a cluster whose transaction ids are lower.
    await pool.execute("UPDATE outbox_sequencer SET horizon_txid = '999999999999'")
    async with pool.acquire() as con, con.transaction():
        await write_events(con, [progress(1, n) for n in range(3)])
    async with pool.acquire() as con:
        assert await sequence_once(con) == (3, False, False, False)
    assert [s.position for s in await OutboxReader(pool).read_after(0)] == [1, 2, 3]


async def test_two_sequencers_assign_each_row_once(pool: asyncpg.Pool, database_dsn: str) -> None:
    first, second = Sequencer(database_dsn, batch_size=7), Sequencer(database_dsn, batch_size=7)
    async with running(first), running(second):
        # Bypass the advisory lock too: raw batches from other sessions race the sequencers.
        async def raw_batches() -> None:
            async with pool.acquire() as con:
                for _ in range(40):
                    await sequence_once(con, 5)

        results = await asyncio.gather(
            concurrent_writers(pool, 16, 8, seed=11), raw_batches(), raw_batches()
        )
        committed, rolled_back = results[0]
        total = sum(len(v) for v in committed.values())
        seen = await collect(OutboxReader(pool, poll_interval=0.2), total)
        assert first.active.is_set() != second.active.is_set(), "exactly one must lead"
    check_exactly_once(seen, committed, rolled_back)
    rows = await pool.fetchval("SELECT count(*) FROM event_channel_positions")
    assert rows == total * 2  # user and execution channel, each once


async def waits_on_a_lock(pool: asyncpg.Pool, pid: int | None) -> None:
    """Postgres offers no notification for "a backend now waits on a lock": poll, bounded."""
    for _ in range(1000):
        query = "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1"
        if await pool.fetchval(query, pid):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"backend {pid} never blocked")


async def stands_by(pool: asyncpg.Pool, standby: Sequencer) -> None:
    """Until the standby has tried for the lock at least once (and is not leading)."""
    query = "SELECT query LIKE '%pg_try_advisory_lock%' FROM pg_stat_activity WHERE pid = $1"

    async def tried() -> bool:
        return standby.backend_pid is not None and bool(
            await pool.fetchval(query, standby.backend_pid)
        )

    await until(tried)
    assert not standby.active.is_set()


@pytest.mark.parametrize("end", ["stop", "cancel"])
async def test_a_standby_ends_quietly_while_another_leads(
    pool: asyncpg.Pool, database_dsn: str, end: str
) -> None:
    """A standby (a gateway process beside the worker that leads) ends on stop or cancel with
    nothing left unretrieved: no "Task exception was never retrieved" at every shutdown."""
    loop = asyncio.get_running_loop()
    unhandled: list[dict[str, object]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: unhandled.append(context))
    try:
        async with running(Sequencer(database_dsn)) as leader:
            await asyncio.wait_for(leader.active.wait(), 10)
            standby = Sequencer(database_dsn, standby_poll=0.01)
            task = asyncio.create_task(standby.run())
            await stands_by(pool, standby)
            if end == "stop":
                standby.stop()
                await asyncio.wait_for(task, 10)
            else:
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await asyncio.wait_for(task, 10)
            del task
            gc.collect()  # an unretrieved exception is reported when its task is collected
            assert not standby.active.is_set()
    finally:
        loop.set_exception_handler(previous)
    assert unhandled == []


async def test_a_standby_holds_no_snapshot(pool: asyncpg.Pool, database_dsn: str) -> None:
    """A standby blocked inside `pg_advisory_lock` would hold a snapshot for as long as it
    waited: vacuum's horizon stuck for the whole database, and every `CREATE INDEX
    CONCURRENTLY` (a migration under the running release) waiting on it until it times out."""
    await pool.execute("CREATE TABLE standby_probe (n int)")
    async with running(Sequencer(database_dsn)) as leader:
        await asyncio.wait_for(leader.active.wait(), 10)
        async with running(Sequencer(database_dsn, standby_poll=0.01)) as standby:
            await stands_by(pool, standby)
            async with pool.acquire() as con:
                await con.execute("SET lock_timeout = '3s'")
                await con.execute("CREATE INDEX CONCURRENTLY standby_probe_n ON standby_probe (n)")
            xmin = "SELECT backend_xmin FROM pg_stat_activity WHERE pid = $1"
            assert await pool.fetchval(xmin, standby.backend_pid) is None


async def test_a_leader_that_steps_down_hands_over_at_once(
    pool: asyncpg.Pool, database_dsn: str
) -> None:
    """Stopped (a deploy), the leader unlocks and notifies: the standby leads without waiting
    for its next try (an hour here)."""
    leader = Sequencer(database_dsn)
    leading = asyncio.create_task(leader.run())
    await asyncio.wait_for(leader.active.wait(), 10)
    async with running(Sequencer(database_dsn, standby_poll=3600)) as standby:
        await stands_by(pool, standby)
        leader.stop()
        await asyncio.wait_for(leading, 10)
        await asyncio.wait_for(standby.active.wait(), 10)
        event = progress(1, 0)
        async with pool.acquire() as con, con.transaction():
            await write_events(con, [event])
        seen = await collect(OutboxReader(pool, poll_interval=0.2), 1)
    assert [s.envelope["id"] for s in seen] == [str(event.id)]


async def test_killed_sequencer_mid_batch_loses_nothing(
    pool: asyncpg.Pool, database_dsn: str
) -> None:
    events = [progress(1, n) for n in range(500)]
    async with pool.acquire() as con, con.transaction():
        await write_events(con, events)
    leader = Sequencer(database_dsn, poll_interval=0.2)
    standby = Sequencer(database_dsn, poll_interval=0.2)
    async with pool.acquire() as blocker:
        # Hold a lock the batch needs after it has numbered rows: the leader stops mid-batch.
        blocking = blocker.transaction()
        await blocking.start()
        await blocker.execute("LOCK TABLE event_channel_positions IN EXCLUSIVE MODE")
        async with running(leader):
            await asyncio.wait_for(leader.active.wait(), 10)
            async with running(standby):
                await waits_on_a_lock(pool, leader.backend_pid)
                assert not standby.active.is_set()
                # Its process is going (it would otherwise reconnect and could win the lock
                # back before the standby's next try): its session dies mid-batch.
                leader.stop()
                await pool.execute("SELECT pg_terminate_backend($1)", leader.backend_pid)
                await asyncio.wait_for(standby.active.wait(), 10)
                await blocking.rollback()
                seen = await collect(OutboxReader(pool, poll_interval=0.2), len(events))
    check_exactly_once(seen, {1: [e.id for e in events]}, set())


async def test_open_transaction_stalls_visibly_then_catches_up(
    pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    reader = OutboxReader(pool, poll_interval=0.2)
    async with pool.acquire() as other:
        stall = other.transaction()
        await stall.start()
        await other.fetchval("SELECT pg_current_xact_id()")  # holds the xmin horizon
        blocker_pid = other.get_server_pid()
        events = [progress(2, n) for n in range(5)]
        async with pool.acquire() as con, con.transaction():
            await write_events(con, events)
        lag = await read_lag(pool)
        assert lag.stalled
        assert lag.unsequenced == 5
        assert lag.blocking_pid == blocker_pid
        async with pool.acquire() as con:
            assert (await sequence_once(con)).numbered == 0
        assert await reader.head() == 0
        await stall.commit()
    seen = await collect(reader, 5, timeout=10)
    assert [s.position for s in seen] == [1, 2, 3, 4, 5]
    lag = await read_lag(pool)
    assert (lag.unsequenced, lag.stalled) == (0, False)


async def test_a_long_stall_is_logged_with_its_blocker(
    pool: asyncpg.Pool, database_dsn: str
) -> None:
    warnings: list[str] = []
    warned = asyncio.Event()

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "stalled" in record.getMessage():
                warnings.append(record.getMessage())
                warned.set()

    handler = Capture()
    logger = logging.getLogger("flowmaestro.events.outbox.sequencer")
    logger.addHandler(handler)
    try:
        async with pool.acquire() as other:
            stall = other.transaction()
            await stall.start()
            await other.fetchval("SELECT pg_current_xact_id()")
            blocker_pid = other.get_server_pid()
            await PostgresEmitter(pool).emit([progress(3, 0)])
            sequencer = Sequencer(database_dsn, poll_interval=0.05, stall_warning_after=0.1)
            async with running(sequencer):
                await asyncio.wait_for(warned.wait(), 10)
            await stall.rollback()
    finally:
        logger.removeHandler(handler)
    assert "1 committed events wait" in warnings[0]
    assert f"backend pid {blocker_pid}" in warnings[0]


async def first_written_payload(pool: asyncpg.Pool, write: Callable[[], Awaitable[object]]) -> str:
    """The first notification on the emitters' channel after `write`, with a sentinel sent
    after it: notifications arrive in commit order, so the sentinel first means none came."""
    heard: asyncio.Queue[str] = asyncio.Queue()

    def hear(*args: object) -> None:
        heard.put_nowait(str(args[3]))

    async with pool.acquire() as listener:
        await listener.add_listener(WRITTEN, hear)
        await write()
        await pool.execute("SELECT pg_notify($1, 'sentinel')", WRITTEN)
        first = await asyncio.wait_for(heard.get(), 10)
        await listener.remove_listener(WRITTEN, hear)
    return first


async def test_emitters_notify_only_while_the_sequencer_sleeps(pool: asyncpg.Pool) -> None:
    async def write() -> None:
        await PostgresEmitter(pool).emit([progress(1, 0)])

    assert await first_written_payload(pool, write) == ""
    await pool.execute("UPDATE outbox_sequencer SET sleeping = false")
    assert await first_written_payload(pool, write) == "sentinel"

    async def write_repeatable_read() -> None:
        # Its snapshot may predate the flag: such a transaction always notifies.
        async with pool.acquire() as con, con.transaction(isolation="repeatable_read"):
            await write_events(con, [progress(2, 0)])

    assert await first_written_payload(pool, write_repeatable_read) == ""


async def asleep(con: Connection) -> list[Batch]:
    """Batches, at the sequencer's own settling cadence, until it sleeps (bounded)."""
    batches: list[Batch] = []
    async with asyncio.timeout(10):
        while not batches or batches[-1].settling or batches[-1].pending:
            batches.append(await sequence_once(con))
            await asyncio.sleep(0.002)  # the sequencer's own poll while settling
    return batches


async def test_falling_asleep_waits_for_an_emitter_that_saw_it_awake(
    pool: asyncpg.Pool,
) -> None:
    """An emitter that read the flag down skipped its NOTIFY: the sequencer must not sleep
    before that emitter's transaction has ended and its rows were scanned."""
    async with pool.acquire() as con, pool.acquire() as emitter:
        await emitter.execute("UPDATE outbox_sequencer SET sleeping = false")
        late = emitter.transaction()
        await late.start()
        await write_events(emitter, [progress(1, 0)])  # reads the flag down: no NOTIFY
        falling = [await sequence_once(con) for _ in range(3)]
        # Flag up, then every call is still settling while that transaction is open.
        assert [tuple(b) for b in falling] == [(0, False, False, True)] * 3
        assert await con.fetchval("SELECT sleeping FROM outbox_sequencer")
        await late.commit()
        batches = await asleep(con)
    assert sum(b.numbered for b in batches) == 1
    assert await pool.fetchval("SELECT settle_horizon IS NULL FROM outbox_sequencer")


async def xid_of(pool: asyncpg.Pool, pid: int) -> int:
    query = "SELECT backend_xid::text::bigint FROM pg_stat_activity WHERE pid = $1"
    return int(await pool.fetchval(query, pid))


async def test_an_emitter_whose_id_follows_the_flag_raising_batch_is_waited_for(
    pool: asyncpg.Pool,
) -> None:
    """Found by review: a snapshot's xmax (the latest completed id plus one) was the horizon.
    An emitter that takes its id after the flag-raising batch took its own, and reads the flag
    down before that batch commits, is above such a horizon, and the sequencer fell asleep
    while it was open. The horizon is now the next batch's own id."""
    heard: asyncio.Queue[str] = asyncio.Queue()

    def hear(*args: object) -> None:
        heard.put_nowait(str(args[3]))

    async with (
        pool.acquire() as seq,
        pool.acquire() as emitter,
        pool.acquire() as blocker,
        pool.acquire() as listener,
    ):
        await listener.add_listener(WRITTEN, hear)
        await pool.execute("UPDATE outbox_sequencer SET sleeping = false")  # awake
        await PostgresEmitter(pool).emit([progress(1, 0)])  # one transaction: a light batch
        lock = blocker.transaction()
        await lock.start()
        await blocker.execute("LOCK TABLE event_channel_positions IN EXCLUSIVE MODE")
        # The flag-raising batch: it has its id (FOR UPDATE) and waits before its commit.
        raising = asyncio.create_task(sequence_once(seq))
        await waits_on_a_lock(pool, seq.get_server_pid())
        sequencer_xid = await xid_of(pool, seq.get_server_pid())
        late = emitter.transaction()
        await late.start()
        await write_events(emitter, [progress(2, 0)])  # reads the flag down: no NOTIFY
        assert await xid_of(pool, emitter.get_server_pid()) > sequencer_xid
        await lock.rollback()
        assert tuple(await raising) == (1, False, False, True)  # flag up: falling asleep
        assert (await sequence_once(seq)).settling  # the horizon: still settling
        await late.commit()
        await pool.execute("SELECT pg_notify($1, 'sentinel')", WRITTEN)
        assert await asyncio.wait_for(heard.get(), 10) == "sentinel", "it did notify"
        batches = await asleep(seq)
        await listener.remove_listener(WRITTEN, hear)
    assert sum(b.numbered for b in batches) == 1


async def test_a_stranded_event_is_impossible_end_to_end(
    pool: asyncpg.Pool, database_dsn: str
) -> None:
    """The same race through a running Sequencer whose fallback poll (30 s) is far longer
    than the test waits: the sequencer stays awake for a batch of three transactions, falls
    asleep on the next (light) batch while an emitter takes its id and reads the flag down,
    and that emitter commits without a NOTIFY. Its event must arrive anyway."""
    emit = PostgresEmitter(pool)
    for n in range(3):
        await emit.emit([progress(9, n)])
    light = progress(8, 0)
    async with pool.acquire() as blocker1, pool.acquire() as blocker2, pool.acquire() as em:
        first = blocker1.transaction()
        await first.start()
        await blocker1.execute("LOCK TABLE event_channel_positions IN EXCLUSIVE MODE")
        sequencer = Sequencer(database_dsn, poll_interval=30)
        async with running(sequencer):
            await asyncio.wait_for(sequencer.active.wait(), 10)
            await waits_on_a_lock(pool, sequencer.backend_pid)  # batch 1 (3 rows) waits
            await emit.emit([light])  # after batch 1's scan: batch 2 holds it alone
            second = blocker2.transaction()
            await second.start()
            await blocker2.execute(
                "SELECT 1 FROM event_outbox WHERE event_id = $1 FOR UPDATE", light.id
            )
            await first.rollback()  # batch 1 commits awake; batch 2 waits on the row lock
            await waits_on_a_lock(pool, sequencer.backend_pid)
            late = em.transaction()
            await late.start()
            event = progress(7, 0)
            await write_events(em, [event])  # reads the flag down
            await second.rollback()  # batch 2 raises the flag
            reader = OutboxReader(pool, poll_interval=30)
            head = await reader.head()
            await late.commit()
            await arrival(reader, str(event.id), after=head)


async def test_a_settling_horizon_from_another_xid_space_is_not_trusted(
    pool: asyncpg.Pool,
) -> None:
    # As after restoring a dump that carries the state row into a cluster with lower ids.
    await pool.execute(
        "UPDATE outbox_sequencer SET sleeping = true, settle_horizon = '999999999999'"
    )
    async with pool.acquire() as con:
        batches = await asleep(con)
    assert not batches[-1].settling


async def test_an_unrelated_long_transaction_does_not_keep_the_sequencer_awake(
    pool: asyncpg.Pool, outbox_server_dsn: str
) -> None:
    """Found by review: any open transaction with an id, even in another database, holds
    xmin below the horizon, and the sequencer polled for as long as it lived. Only an
    emitter can have seen the flag down, and an emitter holds a lock on event_outbox here."""
    await PostgresEmitter(pool).emit([progress(1, 0)])
    await PostgresEmitter(pool).emit([progress(2, 0)])
    other = await asyncpg.connect(outbox_server_dsn)
    try:
        async with pool.acquire() as con:
            assert tuple(await sequence_once(con)) == (2, False, True, False)  # awake
            job = other.transaction()
            await job.start()
            await other.fetchval("SELECT pg_current_xact_id()")
            batches = [await sequence_once(con) for _ in range(3)]
            await job.rollback()
    finally:
        await other.close()
    # Flag up; the horizon; then asleep, with the other transaction still open.
    assert [(b.pending, b.settling) for b in batches] == [(False, True)] * 2 + [(False, False)]


async def test_a_previous_release_sequencer_taking_over_an_awake_one_strands_nothing(
    pool: asyncpg.Pool,
) -> None:
    """Found by review: in a rolling upgrade the previous release's sequencer (two-argument
    call, polling only while `pending`) may take over from an awake one. Settling is reported
    to it as pending, so it polls until the emitter that saw the flag down has committed."""
    wake = asyncio.Event()

    def on_written(*_: object) -> None:
        wake.set()

    async def previous_release(con: Connection) -> None:
        # Its loop, as in 201030a^ (fallback poll 30 s: longer than this test waits).
        backoff = 0.0
        while True:
            wake.clear()
            row = await con.fetchrow("SELECT * FROM outbox_sequence($1, $2)", 5000, SEQUENCED)
            assert row is not None
            backoff = min(max(backoff * 2, 0.002), 30) if row["pending"] else 0.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), backoff or 30)

    await pool.execute("UPDATE outbox_sequencer SET sleeping = false")  # it was awake
    numbered = "SELECT count(*) FROM event_outbox WHERE position IS NOT NULL"
    async with pool.acquire() as emitter, pool.acquire() as old:
        await old.add_listener(WRITTEN, on_written)
        late = emitter.transaction()
        await late.start()
        await write_events(emitter, [progress(1, 0)])  # flag down: no NOTIFY
        task = asyncio.create_task(previous_release(old))
        try:
            # It takes over and raises the flag.
            await until(lambda: pool.fetchval("SELECT sleeping FROM outbox_sequencer"))
            await late.commit()
            await until(lambda: pool.fetchval(numbered))
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await old.remove_listener(WRITTEN, on_written)


@pytest.mark.slow
async def test_under_load_the_sequencer_stays_awake_and_numbers_everything(
    pool: asyncpg.Pool, database_dsn: str
) -> None:
    """Sixteen writers at once, with the sequencer starting awake (its first batch holds three
    transactions): emitters skip their NOTIFY while it is, and every event still arrives once
    with a fallback poll far longer than the test's wait."""
    early = [progress(99, n) for n in range(3)]
    for event in early:
        await PostgresEmitter(pool).emit([event])
    async with running(Sequencer(database_dsn, poll_interval=5)) as sequencer:
        await asyncio.wait_for(sequencer.active.wait(), 10)
        committed, rolled_back = await concurrent_writers(pool, 16, 12, seed=5)
        committed[99] = [e.id for e in early]
        total = sum(len(v) for v in committed.values())
        seen = await collect(OutboxReader(pool, poll_interval=5), total, timeout=4)
    check_exactly_once(seen, committed, rolled_back)
