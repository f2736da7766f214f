"""The migration policy (docs/migrations.md), checked on every migration from 0022 on (the
files before it were applied under no policy and may never change): expand only, with
contractions in files of their own marked `-- migrate: contract`; an index on an existing
table is built or dropped CONCURRENTLY, alone in a `-- migrate: no-transaction` file;
every statement that locks an existing table waits at most LOCK_BUDGET for its lock. And
the runner runs a no-transaction file outside a transaction."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import asyncpg
import pytest

from flowmaestro.migrate import NO_TRANSACTION, Migration, bundled_migrations, migrate

if TYPE_CHECKING:
    from collections.abc import Iterator

FIRST_CHECKED = 22
LOCK_BUDGET_SECONDS = 5.0
CONTRACT = "-- migrate: contract"

_CREATE_TABLE = re.compile(r"\bCREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.I)
_INDEX = re.compile(
    r"\b(CREATE\s+(?:UNIQUE\s+)?INDEX|DROP\s+INDEX)\s+(CONCURRENTLY\s+)?"
    r"(?:IF\s+(?:NOT\s+)?EXISTS\s+)?\w*\s*(?:ON\s+(?:ONLY\s+)?(\w+))?",
    re.I,
)
_ALTER = re.compile(r"\bALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(\w+)", re.I)
_CONTRACTING = re.compile(
    r"\bDROP\s+(?:TABLE|COLUMN)\b|\bRENAME\b|\bALTER\s+COLUMN\s+\w+\s+(?:SET\s+DATA\s+)?TYPE\b"
    r"|\bSET\s+NOT\s+NULL\b|\bADD\s+COLUMN\b[^;]*\bNOT\s+NULL\b(?![^;]*\bDEFAULT\b)",
    re.I,
)
_LOCK_TIMEOUT = re.compile(r"\bSET\s+(?:LOCAL\s+)?lock_timeout\s*(?:=|TO)\s*'(\d+)(ms|s)'", re.I)


def code(sql: str) -> str:
    """The SQL without comments and function bodies (their text is not DDL run now)."""
    sql = re.sub(r"\$(\w*)\$.*?\$\1\$", "$$", sql, flags=re.S)
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


def existing_tables(before: list[Migration]) -> set[str]:
    return {name.lower() for m in before for name in _CREATE_TABLE.findall(code(m.sql))}


def violations(m: Migration, existing: set[str]) -> Iterator[str]:
    sql = code(m.sql)
    own = {name.lower() for name in _CREATE_TABLE.findall(sql)}
    locks_existing = False
    for kind, concurrently, table in _INDEX.findall(sql):
        on_existing = table.lower() in existing if table else kind.upper().startswith("DROP")
        if on_existing and table.lower() not in own:
            locks_existing = True
            if not concurrently:
                yield f"{kind} on {table or 'an existing table'} without CONCURRENTLY"
        if concurrently and m.transactional:
            yield f"{kind} CONCURRENTLY needs the first line {NO_TRANSACTION!r}"
    for table in _ALTER.findall(sql):
        if table.lower() in existing and table.lower() not in own:
            locks_existing = True
    if not m.transactional:
        statements = [s for s in sql.split(";") if s.strip() and not _LOCK_TIMEOUT.search(s)]
        if len(statements) != 1:
            yield f"a no-transaction file holds one statement, not {len(statements)}"
    if _CONTRACTING.search(sql) and CONTRACT not in m.sql:
        yield "contracts the schema (drop, rename, retype, NOT NULL) outside a contract file"
    if locks_existing:
        timeout = _LOCK_TIMEOUT.search(sql)
        if timeout is None:
            yield "locks an existing table without SET LOCAL lock_timeout"
        else:
            seconds = int(timeout.group(1)) / (1000 if timeout.group(2) == "ms" else 1)
            if seconds > LOCK_BUDGET_SECONDS:
                yield f"lock_timeout {seconds} s is over the budget of {LOCK_BUDGET_SECONDS} s"


def test_every_new_migration_follows_the_policy() -> None:
    migrations = bundled_migrations()
    found = {}
    for index, m in enumerate(migrations):
        if m.version >= FIRST_CHECKED:
            problems = list(violations(m, existing_tables(migrations[:index])))
            if problems:
                found[m.name] = problems
    assert not found, found


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("CREATE INDEX e_type ON event_outbox (type);", "without CONCURRENTLY"),
        ("CREATE INDEX CONCURRENTLY e_type ON event_outbox (type);", "needs the first line"),
        ("ALTER TABLE executions ADD COLUMN x int;", "without SET LOCAL lock_timeout"),
        (
            "SET LOCAL lock_timeout = '30s';\nALTER TABLE executions ADD COLUMN x int;",
            "over the budget",
        ),
        (
            "SET LOCAL lock_timeout = '2s';\nALTER TABLE executions DROP COLUMN inputs;",
            "outside a contract file",
        ),
        (
            "SET LOCAL lock_timeout = '2s';\nALTER TABLE executions ADD COLUMN y int NOT NULL;",
            "outside a contract file",
        ),
        (
            f"{NO_TRANSACTION}\nSET lock_timeout = '2s';\n"
            "CREATE INDEX CONCURRENTLY a ON executions (status);\n"
            "CREATE INDEX CONCURRENTLY b ON executions (workflow_id);",
            "holds one statement",
        ),
    ],
)
def test_the_policy_refuses(sql: str, problem: str) -> None:
    existing = existing_tables(bundled_migrations())
    found = list(violations(Migration(99, "0099_x.sql", sql), existing))
    assert any(problem in p for p in found), found


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE t (id int);\nCREATE INDEX t_id ON t (id);",
        "SET LOCAL lock_timeout = '5s';\nALTER TABLE executions ADD COLUMN z text;",
        f"{NO_TRANSACTION}\nSET lock_timeout = '2s';\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS e ON executions (status);",
        f"{CONTRACT}\nSET LOCAL lock_timeout = '2s';\nALTER TABLE executions DROP COLUMN inputs;",
    ],
)
def test_the_policy_accepts(sql: str) -> None:
    existing = existing_tables(bundled_migrations())
    assert list(violations(Migration(99, "0099_x.sql", sql), existing)) == []


async def test_a_no_transaction_migration_builds_its_index_concurrently(
    database_dsn: str,
) -> None:
    index = Migration(
        99,
        "0099_executions_status.sql",
        f"{NO_TRANSACTION}\nSET lock_timeout = '2s';\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS executions_status ON executions (status);\n",
    )
    con = await asyncpg.connect(database_dsn)
    try:
        assert await migrate(con, [*bundled_migrations(), index]) == [index.name]
        valid = await con.fetchval(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'executions_status'::regclass"
        )
        assert valid is True
        recorded = await con.fetchval("SELECT name FROM schema_migrations WHERE version = 99")
        assert recorded == index.name
    finally:
        await con.close()
