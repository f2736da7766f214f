"""One 500-row page of a multi-channel replay, with 1k, 100k and 1M events in history.

The read is the reader's own (`events.outbox.reader.channel_rows`: a merge of one ordered
index range per channel, each cut at the page), run straight on a connection in a
transaction as `replay` runs it, against the statement it replaced (every match after the
cursor gathered, sorted, then cut) in a transaction too, same run.

History: events of 200 executions of two users, each event on its user's channel and its
execution's. The page asks for `user:u0` and executions 0 to 98 (100 channels; half of those
executions are u0's, so most events come from two of the channels and are read once) or for
`user:u0` and executions 0 to 8 (10 channels). Cases: the oldest page (after 0) and one near
the head (1,000 events before it). Metrics: milliseconds per page, and the index entries the
page read (EXPLAIN ANALYZE: rows out of every scan), which do not depend on the machine.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import asyncpg

from bench.harness import Row, Stats
from bench.support import bench_database
from flowmaestro.events import channels_for
from flowmaestro.events.catalogue.node import NodeProgress, NodeProgressData
from flowmaestro.events.outbox.reader import ORDERED_SCANS, channel_query, channel_rows

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from flowmaestro.events.outbox.connection import Connection

PAGE = 500
EXECUTIONS = 200

# The reader's statement for several channels before this benchmark: the baseline.
PREVIOUS = """
SELECT o.position, o.type, o.channels::text, o.envelope::text,
       extract(epoch FROM o.created_at)::float8
FROM event_outbox o
WHERE o.position IN (
    SELECT DISTINCT c.position FROM event_channel_positions c
    WHERE c.channel = ANY($3::text[]) AND c.position > $1 ORDER BY c.position LIMIT $2
)
ORDER BY o.position
"""

# Event n is execution n % EXECUTIONS's (a typed event's envelope with a fresh id), already
# sequenced at position n: what the sequencer would have written, without its cost.
_APPEND = """
WITH events AS (
    SELECT n, gen_random_uuid() AS id, 1 + n % cardinality($3::jsonb[]) AS k
    FROM generate_series($1::bigint, $2::bigint) AS n
), written AS (
    INSERT INTO event_outbox (event_id, position, type, channels, envelope, sequenced_at)
    SELECT id, n, 'node:progress', ($3::jsonb[])[k],
           jsonb_set(($4::jsonb[])[k], '{id}', to_jsonb(id::text)), now()
    FROM events
)
INSERT INTO event_channel_positions (channel, position)
SELECT channel, n FROM events, jsonb_array_elements_text(($3::jsonb[])[k]) AS channel
"""


def _templates() -> tuple[list[str], list[str]]:
    """Each execution's channels and event envelope (as stored: without a position)."""
    events = [
        NodeProgress(
            user_id=f"u{k % 2}",
            execution_id=f"ex_{k}",
            data=NodeProgressData(node_id="n1", progress=50, step="a step of some length"),
        )
        for k in range(EXECUTIONS)
    ]
    return (
        [json.dumps(channels_for(e)) for e in events],
        [e.model_dump_json(exclude={"position"}) for e in events],
    )


async def generate_history(pool: asyncpg.Pool, upto: int) -> None:
    """Append events after the head up to position `upto`, analysed."""
    channels, envelopes = _templates()
    head = int(await pool.fetchval("SELECT last_position FROM outbox_sequencer"))
    for start in range(head + 1, upto + 1, 100_000):
        await pool.execute(_APPEND, start, min(upto, start + 99_999), channels, envelopes)
    await pool.execute("UPDATE outbox_sequencer SET last_position = $1", upto)
    await pool.execute("ANALYZE event_outbox")
    await pool.execute("ANALYZE event_channel_positions")


def requested(count: int) -> list[str]:
    """`user:u0` and the first `count - 1` executions' channels."""
    return ["user:u0", *(f"execution:ex_{k}" for k in range(count - 1))]


def entries_read(plan: dict[str, Any]) -> int:
    """Rows out of every scan of a table or index in an EXPLAIN (ANALYZE, FORMAT JSON) plan
    node, recursively."""
    own = plan["Actual Rows"] * plan["Actual Loops"] if "Relation Name" in plan else 0
    return own + sum(entries_read(child) for child in plan.get("Plans", ()))


async def explain(con: Connection, sql: str, *args: object) -> dict[str, Any]:
    text = await con.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *args)
    plan: dict[str, Any] = json.loads(text)[0]["Plan"]
    return plan


async def reader_plan(
    con: Connection, after: int, channels: list[str], limit: int
) -> dict[str, Any]:
    """The plan the reader's page runs with: the prepared statement's generic one."""
    sql, argument = channel_query(channels)
    async with con.transaction():
        await con.execute(ORDERED_SCANS)
        await con.execute(f"PREPARE replay_page AS {sql}")
        # EXECUTE takes no parameters: its arguments go as literals.
        names = await con.fetchval("SELECT quote_literal($1::text[]::text)", argument)
        try:
            return await explain(con, f"EXECUTE replay_page({after:d}, {limit:d}, {names})")
        finally:
            await con.execute("DEALLOCATE replay_page")


async def _time(
    pool: asyncpg.Pool, read: Callable[[Connection], Awaitable[object]], repeat: int
) -> list[float]:
    samples = []
    async with pool.acquire() as con:
        for _ in range(repeat + 1):  # the first warms the plan and the buffers
            start = time.perf_counter()
            async with con.transaction():
                await read(con)
            samples.append((time.perf_counter() - start) * 1000)
    return samples[1:]


async def run(quick: bool) -> list[Row]:
    sizes = (1_000, 10_000, 100_000) if quick else (1_000, 100_000, 1_000_000)
    repeat = 10 if quick else 50
    rows: list[Row] = []
    async with bench_database() as dsn, asyncpg.create_pool(dsn, min_size=1, max_size=2) as pool:
        for size in sizes:
            await generate_history(pool, size)
            for count in (10, 100):
                names = requested(count)
                for after in sorted({0, max(0, size - 1000)}):

                    async def ours(con: Connection) -> object:
                        return await channel_rows(con, after, names, PAGE)  # noqa: B023

                    async def previous(con: Connection) -> object:
                        return await con.fetch(PREVIOUS, after, PAGE, names)  # noqa: B023

                    case = f"{size:,} events, {count} ch, after {after:,}"
                    async with pool.acquire() as con:
                        read = entries_read(await reader_plan(con, after, names, PAGE))
                        before = entries_read(await explain(con, PREVIOUS, after, PAGE, names))
                    rows.append(
                        Row(
                            case,
                            f"page of {PAGE}",
                            "ms",
                            Stats.of(await _time(pool, ours, repeat)),
                            Stats.of(await _time(pool, previous, repeat)),
                            "gather+sort",
                        )
                    )
                    rows.append(
                        Row(
                            case,
                            "entries read",
                            "rows",
                            Stats.of([float(read)]),
                            Stats.of([float(before)]),
                            "gather+sort",
                        )
                    )
    return rows
