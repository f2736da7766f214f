from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from typing import TYPE_CHECKING

import asyncpg
import pytest

from flowmaestro.database import with_database
from flowmaestro.errors import MigrationError
from flowmaestro.events.outbox.sequencer import LOCK_KEY as SEQUENCER_LOCK_KEY
from flowmaestro.migrate import Migration, bundled_migrations, migrate

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@pytest.fixture
async def empty_dsn(server_dsn: str) -> AsyncIterator[str]:
    name = f"fm_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield with_database(server_dsn, name)
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_applying_twice_is_a_no_op(empty_dsn: str) -> None:
    con = await asyncpg.connect(empty_dsn)
    try:
        assert await migrate(con) == [m.name for m in bundled_migrations()]
        assert await migrate(con) == []
        assert await con.fetchval("SELECT count(*) FROM schema_migrations") == len(
            bundled_migrations()
        )
    finally:
        await con.close()


async def test_concurrent_runners_do_not_collide(empty_dsn: str) -> None:
    cons = [await asyncpg.connect(empty_dsn) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in cons))
        assert sorted(len(r) for r in results) == [0, 0, len(bundled_migrations())]
    finally:
        for c in cons:
            await c.close()


async def test_an_edited_applied_migration_is_refused(empty_dsn: str) -> None:
    con = await asyncpg.connect(empty_dsn)
    try:
        await migrate(con)
        first, *rest = bundled_migrations()
        edited = dataclasses.replace(first, sql=first.sql + "\n-- a quiet edit\n")
        earlier = Migration(0, "0000_earlier.sql", "CREATE TABLE earlier (id int)")
        extra = Migration(9999, "9999_later.sql", "CREATE TABLE later (id int)")
        with pytest.raises(
            MigrationError, match=r"0001_outbox\.sql was edited after it was applied"
        ):
            await migrate(con, [earlier, edited, *rest, extra])
        # Refused before touching anything: neither pending migration was applied.
        assert await con.fetchval("SELECT to_regclass('earlier')") is None
        assert await con.fetchval("SELECT to_regclass('later')") is None
    finally:
        await con.close()


async def test_a_failing_migration_rolls_back_alone(empty_dsn: str) -> None:
    con = await asyncpg.connect(empty_dsn)
    try:
        good = Migration(1, "0001_a.sql", "CREATE TABLE a (id int)")
        bad = Migration(2, "0002_b.sql", "CREATE TABLE b (id int); SELECT nonsense_fn()")
        with pytest.raises(MigrationError, match=r"0002_b.sql failed and was rolled back"):
            await migrate(con, [good, bad])
        assert await con.fetchval("SELECT to_regclass('b')") is None
        assert await con.fetchval("SELECT array_agg(version) FROM schema_migrations") == [1]
    finally:
        await con.close()


TABLE = Migration(1, "0001_t.sql", "CREATE TABLE t (x int)")
INDEX = Migration(
    2,
    "0002_t_x.sql",
    "-- migrate: no-transaction\n"
    "SET lock_timeout = '100ms';\n"
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_x ON t (x);\n",
)


@contextlib.asynccontextmanager
async def writing(dsn: str) -> AsyncIterator[asyncpg.transaction.Transaction]:
    """An open transaction that wrote to `t`: a concurrent index build waits for it."""
    writer = await asyncpg.connect(dsn)
    try:
        transaction = writer.transaction()
        await transaction.start()
        await writer.execute("INSERT INTO t VALUES (1)")
        yield transaction
    finally:
        await writer.close()


async def index_valid(con: asyncpg.Connection) -> bool | None:
    valid: bool | None = await con.fetchval(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('t_x')"
    )
    return valid


async def test_a_lock_timeout_under_live_writes_is_tried_again(
    empty_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    con = await asyncpg.connect(empty_dsn)
    try:
        await migrate(con, [TABLE])
        async with writing(empty_dsn) as transaction:
            waits: list[float] = []

            async def writer_ends(delay: float) -> None:
                if not waits:
                    await transaction.rollback()
                waits.append(delay)

            applied = await migrate(con, [TABLE, INDEX], lock_retry_delay=0.5, sleep=writer_ends)
        assert applied == ["0002_t_x.sql"]
        assert waits == [0.5]
        assert "0002_t_x.sql: canceling statement due to lock timeout (attempt 1 of 5)" in (
            caplog.text
        )
        # The failed attempt's invalid index was dropped and built again, not kept.
        assert await index_valid(con) is True
    finally:
        await con.close()


async def test_an_invalid_index_a_failed_run_left_is_built_again(empty_dsn: str) -> None:
    con = await asyncpg.connect(empty_dsn)
    try:
        await migrate(con, [TABLE])
        async with writing(empty_dsn):
            with pytest.raises(MigrationError, match=r"0002_t_x.sql failed and was stopped"):
                await migrate(con, [TABLE, INDEX], lock_attempts=1)
        assert await index_valid(con) is False  # what IF NOT EXISTS alone would keep
        assert await migrate(con, [TABLE, INDEX]) == ["0002_t_x.sql"]
        assert await index_valid(con) is True
    finally:
        await con.close()


async def test_an_earlier_release_standby_does_not_hold_an_index_build(empty_dsn: str) -> None:
    """A sequencer standby of an earlier release waits inside `pg_advisory_lock`, holding a
    snapshot the index build must wait out (until its lock timeout, every attempt). Here it
    waits again almost at once after each cancel, as a long build would see it: the watch
    session cancels it while the build runs."""
    slow_index = dataclasses.replace(
        INDEX, sql=INDEX.sql.replace("lock_timeout = '100ms'", "lock_timeout = '5s'")
    )
    leader, standby = await asyncpg.connect(empty_dsn), await asyncpg.connect(empty_dsn)
    con, watch = await asyncpg.connect(empty_dsn), await asyncpg.connect(empty_dsn)
    cancels = 0
    waiting = asyncio.Event()

    async def earlier_release_standby() -> None:
        nonlocal cancels
        while True:
            waiting.set()
            try:
                await standby.execute("SELECT pg_advisory_lock($1)", SEQUENCER_LOCK_KEY)
            except asyncpg.QueryCanceledError:
                cancels += 1
                await asyncio.sleep(0.05)

    try:
        await migrate(con, [TABLE])
        await leader.execute("SELECT pg_advisory_lock($1)", SEQUENCER_LOCK_KEY)
        task = asyncio.create_task(earlier_release_standby())
        try:
            await asyncio.wait_for(waiting.wait(), 10)
            applied = await migrate(con, [TABLE, slow_index], lock_attempts=1, watch=watch)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        assert applied == ["0002_t_x.sql"]
        assert cancels >= 1
        assert await index_valid(con) is True
    finally:
        for c in (leader, standby, con, watch):
            await c.close()
