"""The cost of folding an execution's state in the statement that writes its events.

`PostgresEmitter` writes `node:progress` events of registered executions (each folds into its
execution's row: a row lock and an update per execution per statement) against the same rows
written by the statement the emitter used before the fold existed (insert and NOTIFY only),
same run. Cases: 1 and 8 concurrent emitters (one execution each), one event per
transaction and batches of 50.
"""

from __future__ import annotations

import json

import asyncpg

from bench.harness import Row, Stats
from bench.outbox_emit import emit_ours as with_fold
from bench.outbox_emit import make_events, write_rate
from bench.support import bench_database
from flowmaestro.events import channels_for
from flowmaestro.events.catalogue import Event
from flowmaestro.events.outbox.channels import WRITTEN

# The emitter's statement before the state fold: the baseline.
_INSERT_ONLY = """
WITH inserted AS (
    INSERT INTO event_outbox (event_id, type, channels, envelope)
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::jsonb[])
    ON CONFLICT (event_id) DO NOTHING
    RETURNING 1
)
SELECT outbox_written($5, (SELECT count(*) FROM inserted))
"""


async def without_fold(pool: asyncpg.Pool, per_writer: list[list[Event]], batch: int) -> float:
    async def insert_only(chunk: list[Event]) -> None:
        await pool.fetchval(
            _INSERT_ONLY,
            [e.id for e in chunk],
            [e.type for e in chunk],
            [json.dumps(channels_for(e)) for e in chunk],
            [e.model_dump_json(exclude={"position"}) for e in chunk],
            WRITTEN,
        )

    return await write_rate(per_writer, batch, insert_only)


async def run(quick: bool) -> list[Row]:
    rounds = 3 if quick else 5
    rows: list[Row] = []
    async with bench_database() as dsn, asyncpg.create_pool(dsn, min_size=8, max_size=8) as pool:
        await pool.execute(
            "INSERT INTO executions (id, user_id, workflow_id) "
            "SELECT 'ex_' || n, 'bench', 'f' FROM generate_series(0, 7) AS n"
        )
        for writers in (1, 8):
            for batch in (1, 50):
                total = (300 if batch == 1 else 3000) * (1 if quick else 3)
                ours: list[float] = []
                base: list[float] = []
                for r in range(rounds):
                    per_writer = [make_events(total // writers, w, 5) for w in range(writers)]
                    order = (with_fold, without_fold) if r % 2 == 0 else (without_fold, with_fold)
                    for fn in order:
                        await pool.execute("TRUNCATE event_outbox")
                        await pool.execute("UPDATE executions SET state = '{}'")
                        rate = await fn(pool, per_writer, batch)
                        (ours if fn is with_fold else base).append(rate)
                rows.append(
                    Row(
                        f"{writers} emitters, {'single' if batch == 1 else 'batch of 50'}",
                        "throughput",
                        "events/s",
                        Stats.of(ours),
                        Stats.of(base),
                        "insert without fold",
                    )
                )
    return rows
