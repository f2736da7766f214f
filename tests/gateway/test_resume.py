"""Resume: replay from Postgres, then live, with no gap and no duplicate at the seam, while
10,000 events of the channel are being emitted."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from flowmaestro.events.outbox import prune_before
from flowmaestro.gateway import GatewayConfig
from flowmaestro.security import Limits
from tests.gateway.harness import (
    SECRET,
    Recorder,
    emit,
    has_events,
    own_execution,
    progress,
    serve,
)

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer
    from tests.gateway.harness import Running

TOTAL = 10_000
BATCH = 50


def ordered(positions: list[int]) -> bool:
    return all(a < b for a, b in itertools.pairwise(positions))


async def emit_stream(pool: asyncpg.Pool) -> None:
    for b in range(TOTAL // BATCH):
        await emit(pool, *(progress("u1", "ex_r", b * BATCH + i) for i in range(BATCH)))


@pytest.mark.slow
async def test_reconnect_with_after_mid_stream_gets_every_event_once(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    # Queues long enough for the whole burst: this test is about the seam, not slow clients.
    config = GatewayConfig(jwt_secret=SECRET, limits=Limits(socket_max_queue=4 * TOTAL))
    async with serve(pool, temporal_env.client, config) as gateway:
        await resume_mid_stream(gateway, pool)


async def resume_mid_stream(gateway: Running, pool: asyncpg.Pool) -> None:
    await own_execution(pool, "ex_r", "u1")
    first = await Recorder().connect(gateway.url, "u1")
    assert (await first.call("subscribe", {"channel": "execution:ex_r"}))["ok"]
    # Subscribes with after=0 mid-stream, without the user channel: one strictly ordered run.
    late = await Recorder().connect(gateway.url, "u1")
    assert await late.call("unsubscribe", {"channel": "user:u1"}) == {"ok": True}

    emitting = asyncio.create_task(emit_stream(pool))
    await first.wait_until(lambda r: len(r.events) >= 1000)
    late_ack = await late.call("subscribe", {"channel": "execution:ex_r", "after": 0})
    assert late_ack["ok"] and late_ack["recovered"] and late_ack["replayed"] >= 1000
    await first.wait_until(lambda r: len(r.events) >= 3000)
    await first.close()
    seen_first = first.positions()
    resume_from = seen_first[-1]

    second = await Recorder().connect(gateway.url, "u1")
    ack, before_ack = await second.call_marked(
        "subscribe", {"channel": "execution:ex_r", "after": resume_from}
    )
    assert ack["ok"] and ack["recovered"], ack
    await asyncio.wait_for(emitting, 60)
    # `late` replays from 0, so once it has every event the sequencer has numbered them all.
    await late.wait_until(lambda r: len(r.events) == TOTAL, 60)
    everything = [
        r[0]
        for r in await pool.fetch(
            "SELECT position FROM event_channel_positions WHERE channel = 'execution:ex_r' ORDER BY 1"
        )
    ]
    assert len(everything) == TOTAL
    await second.wait_until(lambda r: len(r.events) == TOTAL - len(seen_first), 60)

    # The first connection: live only, in order, once.
    assert ordered(seen_first)
    # Together, the two connections saw every event exactly once.
    seen_second = second.positions()
    assert len(set(seen_second)) == len(seen_second)
    assert sorted(seen_first + seen_second) == everything
    # The second: events that came live on the user channel before the subscribe arrived,
    # then the replay and the events held during it, then (after the ack) live, in order.
    before, after = seen_second[:before_ack], seen_second[before_ack:]
    assert ordered(after) and min(after, default=ack["position"] + 1) > ack["position"]
    assert max(before, default=0) <= ack["position"]
    descents = [i for i in range(1, len(before)) if before[i] < before[i - 1]]
    assert len(descents) <= 1
    split = descents[0] if descents else 0
    window, resumed = before[:split], before[split:]
    assert ordered(window) and ordered(resumed)
    assert ack["replayed"] <= len(resumed)
    # Without the user channel the resumed stream is one ordered run from the start.
    assert late.positions() == everything
    await second.close()
    await late.close()


async def test_resume_from_before_the_pruned_horizon_is_not_recovered(
    gateway: Running, pool: asyncpg.Pool
) -> None:
    await own_execution(pool, "ex_old", "u1")
    watcher = await Recorder().connect(gateway.url, "u1")
    await emit(pool, *(progress("u1", "ex_old", i) for i in range(5)))
    await watcher.wait_until(has_events(5))
    async with pool.acquire() as con:
        pruned, through = await prune_before(con, datetime.now(UTC) + timedelta(seconds=1))
    assert (pruned, through) == (5, watcher.positions()[-1])
    await emit(pool, *(progress("u1", "ex_old", i) for i in range(5, 7)))
    await watcher.wait_until(has_events(7))
    late = await Recorder().connect(gateway.url, "u1")
    ack = await late.call("subscribe", {"channel": "execution:ex_old", "after": 0})
    assert ack == {
        "ok": True,
        "channel": "execution:ex_old",
        "channels": ["execution:ex_old"],
        "position": watcher.positions()[-1],
        "replayed": 2,
        "recovered": False,
        "presence": [],
        "presences": None,
    }
    assert late.positions() == watcher.positions()[5:]
    current = await late.call("subscribe", {"channel": "execution:ex_old", "after": through})
    assert current["recovered"] is True and current["replayed"] == 0
    await watcher.close()
    await late.close()
