"""The migration runner: numbered SQL files, one transaction each, recorded with checksums.

Concurrent runners serialise on an advisory lock; an applied file whose text changed is refused.
A file whose first line is `-- migrate: no-transaction` runs outside a transaction (for
`CREATE INDEX CONCURRENTLY`, which cannot run in one); the migration policy
(docs/migrations.md) has it hold one such statement. Live traffic can keep such a statement
past its lock budget: the runner tries it again a few times, backing off, and first drops any
invalid index the statement names (left by a failed attempt, it would otherwise satisfy
`IF NOT EXISTS` for good). Sequencer standbys of releases before the polling standby waited
inside `pg_advisory_lock`, holding a snapshot such a statement must wait out: the runner
cancels those waits before each attempt (a standby takes a cancel as a lost session and
tries again). Given a second session (`watch`), it also cancels them while the statement
runs: a standby waits again a second after a cancel, and a long build must outlast that.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg

from flowmaestro.errors import MigrationError, NotMigratedError
from flowmaestro.events.outbox.sequencer import LOCK_KEY as SEQUENCER_LOCK_KEY

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from flowmaestro.events.outbox.connection import Connection

log = logging.getLogger(__name__)

# "FMMIG" as an integer: distinct from the sequencer's lock key.
LOCK_KEY = 0x464D4D4947
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def transactional(self) -> bool:
        return not self.sql.startswith(NO_TRANSACTION)


NO_TRANSACTION = "-- migrate: no-transaction"


# The project's `migrations/` directory: numbered plain SQL files beside this package.
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def bundled_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The SQL files of `directory`, in version order."""
    found = []
    for entry in directory.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(
                Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8"))
            )
        elif entry.name.endswith(".sql"):
            raise MigrationError(f"migration file {entry.name!r} is not named NNNN_name.sql")
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a version number: {versions}")
    return found


async def _take_lock(con: Connection) -> None:
    """The runners' lock, polled rather than waited for in `pg_advisory_lock`: a runner
    blocked in that statement holds a snapshot, which the lock holder's `CREATE INDEX
    CONCURRENTLY` waits out, while it waits for the lock: a deadlock."""
    delay = 0.01
    while not await con.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY):
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.5)


async def migrate(
    con: Connection,
    migrations: list[Migration] | None = None,
    *,
    lock_attempts: int = 5,
    lock_retry_delay: float = 1.0,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    watch: Connection | None = None,
) -> list[str]:
    """Apply pending migrations; return the names applied (empty when up to date). A
    no-transaction statement that times out on a lock is tried up to `lock_attempts` times,
    `lock_retry_delay` seconds apart at first, doubling (waited with `sleep`). `watch`, a
    second session of the same database, cancels earlier-release standby waits while such a
    statement runs."""
    todo = bundled_migrations() if migrations is None else migrations
    await _take_lock(con)
    try:
        await con.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        applied = {
            r["version"]: (r["name"], r["checksum"])
            for r in await con.fetch("SELECT version, name, checksum FROM schema_migrations")
        }
        for m in todo:
            if m.version in applied and applied[m.version][1] != m.checksum:
                name, checksum = applied[m.version]
                raise MigrationError(
                    f"migration {m.name} was edited after it was applied "
                    f"(recorded as {name} with checksum {checksum[:12]}, file has "
                    f"{m.checksum[:12]})",
                    hint="never edit an applied migration; add a new numbered file instead",
                )
        done = []
        for m in todo:
            if m.version in applied:
                continue
            try:
                if m.transactional:
                    async with con.transaction():
                        await con.execute(m.sql)
                        await _record(con, m)
                else:
                    # Each statement on its own (a simple query of several statements
                    # would run in one implicit transaction).
                    for statement in _statements(m.sql):
                        await _run_outside_transaction(
                            con, m, statement, lock_attempts, lock_retry_delay, sleep, watch
                        )
                    await _record(con, m)
            except asyncpg.PostgresError as exc:
                done_here = "rolled back" if m.transactional else "stopped (rerun it)"
                raise MigrationError(
                    f"migration {m.name} failed and was {done_here}: {exc}"
                ) from exc
            done.append(m.name)
        return done
    finally:
        await con.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)


_INVALID_INDEXES = """
SELECT c.relname FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE NOT i.indisvalid AND c.relnamespace = current_schema()::regnamespace
"""


# Sessions of this database waiting for the sequencer's lock: only a previous release's
# standby waits for it (a bigint key is held as classid = high half, objid = low half).
_CANCEL_WAITING_STANDBYS = """
SELECT count(*) FILTER (WHERE pg_cancel_backend(pid)) FROM pg_locks
WHERE locktype = 'advisory' AND NOT granted AND objsubid = 1
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND classid = $1::bigint::oid AND objid = $2::bigint::oid
"""


async def _cancel_waiting_standbys(con: Connection) -> None:
    cancelled = await con.fetchval(
        _CANCEL_WAITING_STANDBYS, SEQUENCER_LOCK_KEY >> 32, SEQUENCER_LOCK_KEY & 0xFFFFFFFF
    )
    if cancelled:
        log.info("cancelled %d earlier-release sequencer standby lock wait(s)", cancelled)


# How often the watch session looks for standby waits while a statement runs.
STANDBY_SWEEP = 0.2


@contextlib.asynccontextmanager
async def _cancelling_standbys(watch: Connection | None) -> AsyncIterator[None]:
    async def sweep(con: Connection) -> None:
        while True:
            await asyncio.sleep(STANDBY_SWEEP)
            await _cancel_waiting_standbys(con)

    task = None if watch is None else asyncio.create_task(sweep(watch))
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _run_outside_transaction(
    con: Connection,
    m: Migration,
    statement: str,
    attempts: int,
    delay: float,
    sleep: Callable[[float], Awaitable[object]],
    watch: Connection | None,
) -> None:
    for attempt in range(1, attempts + 1):
        try:
            for (index,) in await con.fetch(_INVALID_INDEXES):
                if re.search(rf"\b{re.escape(index)}\b", statement):
                    await con.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{index}"')
            await _cancel_waiting_standbys(con)
            async with _cancelling_standbys(watch):
                await con.execute(statement)
            return
        except asyncpg.LockNotAvailableError as exc:
            if attempt == attempts:
                raise
            log.warning(
                "migration %s: %s (attempt %d of %d); trying again in %gs",
                m.name,
                exc,
                attempt,
                attempts,
                delay,
            )
            await sleep(delay)
            delay *= 2


async def _record(con: Connection, m: Migration) -> None:
    await con.execute(
        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
        m.version,
        m.name,
        m.checksum,
    )


def _statements(sql: str) -> list[str]:
    """A no-transaction file's statements: split at semicolons ending a line (such a file
    holds plain DDL, no function bodies)."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    text = "\n".join(lines)
    return [part.strip() for part in re.split(r";\s*$", text, flags=re.MULTILINE) if part.strip()]


async def require_migrated(pool: asyncpg.Pool) -> None:
    """Refuse a database that lacks one of this version's migrations, naming the command."""
    applied: set[int] = set()
    if await pool.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL"):
        applied = {r["version"] for r in await pool.fetch("SELECT version FROM schema_migrations")}
    bundled = bundled_migrations()
    pending = [m.name for m in bundled if m.version not in applied]
    if pending:
        raise NotMigratedError(
            f"the database is not migrated: {len(pending)} of {len(bundled)} migrations "
            f"are not applied (the first is {pending[0]})",
            hint="run `flowmaestro migrate` first",
        )
