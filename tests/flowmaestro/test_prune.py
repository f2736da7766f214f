"""`flowmaestro prune`: old events go, recent ones stay, and the horizon is recorded so a
resume from before it answers `recovered: false`."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from events import NodeProgress
from events.outbox import OutboxReader, PostgresEmitter
from tests.flowmaestro.devstack import dev_env, run_cli

if TYPE_CHECKING:
    import asyncpg

    from events.outbox import Sequencer


def progress(n: int) -> NodeProgress:
    return NodeProgress(
        user_id="u1", execution_id="ex_p", data={"node_id": "n", "progress": n, "step": str(n)}
    )


async def sequenced(pool: asyncpg.Pool, count: int) -> None:
    async with asyncio.timeout(30):
        async for stored in OutboxReader(pool, poll_interval=0.1).tail(0):
            if stored.position >= count:
                return


async def test_prune_deletes_what_is_older_and_records_the_horizon(
    pool: asyncpg.Pool, database_dsn: str, sequencer: Sequencer
) -> None:
    await PostgresEmitter(pool).emit([progress(n) for n in range(5)])
    await sequenced(pool, 5)
    env = dev_env(FLOWMAESTRO_DATABASE_URL=database_dsn)

    code, out, err = await run_cli("prune", "--older-than", "1h", env=env)
    assert (code, out.strip()) == (0, "deleted 0 event(s); history is kept after position 0"), err

    # Made to look two hours old; one more event stays young.
    await pool.execute("UPDATE event_outbox SET sequenced_at = now() - interval '2 hours'")
    await PostgresEmitter(pool).emit([progress(5)])
    await sequenced(pool, 6)
    code, out, err = await run_cli("prune", "--older-than", "1h", env=env)
    assert (code, out.strip()) == (0, "deleted 5 event(s); history is kept after position 5"), err

    page = await OutboxReader(pool).replay(0, "execution:ex_p", limit=10)
    assert [e.position for e in page.events] == [6]
    assert page.recovered is False
    assert (await OutboxReader(pool).replay(5, "execution:ex_p", limit=10)).recovered


async def test_prune_refuses_an_age_it_cannot_read(database_dsn: str) -> None:
    env = dev_env(FLOWMAESTRO_DATABASE_URL=database_dsn)
    code, _, err = await run_cli("prune", "--older-than", "a week", env=env)
    assert code == 2
    assert "is not an age like 90s, 30m, 12h or 7d" in err
