"""One order per socket: positions strictly increase on a socket across all its channels,
replay included; several channels resume with one cursor; batched frames, negotiated."""

from __future__ import annotations

import asyncio
import itertools
from typing import TYPE_CHECKING, Any

import pytest
import socketio

from flowmaestro.gateway import GatewayConfig
from flowmaestro.security import Limits
from tests.events.outbox.helpers import until
from tests.gateway.harness import (
    SECRET,
    Recorder,
    emit,
    has_events,
    own_execution,
    progress,
    serve,
    token,
)

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer
    from tests.gateway.harness import Running


def increasing(positions: list[int]) -> bool:
    return all(a < b for a, b in itertools.pairwise(positions))


async def emit_load(pool: asyncpg.Pool, rounds: int) -> None:
    """Events of two executions and of the user alone, interleaved, 30 per transaction."""
    for r in range(rounds):
        events = []
        for i in range(10):
            step = r * 10 + i
            events += [progress("u1", "ex_a", step), progress("u1", "ex_b", step)]
            events.append(progress("u1", "ex_a", step).model_copy(update={"execution_id": None}))
        await emit(pool, *events)


async def channel_positions(pool: asyncpg.Pool, channel: str, after: int = 0) -> list[int]:
    rows = await pool.fetch(
        "SELECT position FROM event_channel_positions WHERE channel = $1 AND position > $2"
        " ORDER BY 1",
        channel,
        after,
    )
    return [r[0] for r in rows]


@pytest.mark.parametrize("batch", [False, True], ids=["single", "batched"])
async def test_a_socket_in_user_and_execution_channels_resumed_under_load_stays_in_order(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment, batch: bool
) -> None:
    config = GatewayConfig(
        jwt_secret=SECRET, limits=Limits(socket_max_queue=100_000), replay_page=100
    )
    async with serve(pool, temporal_env.client, config) as gateway:
        await own_execution(pool, "ex_a", "u1")
        await own_execution(pool, "ex_b", "u1")
        first = await Recorder().connect(gateway.url, auth={"token": token("u1"), "batch": batch})
        assert (await first.call("subscribe", {"channel": "execution:ex_a"}))["ok"]
        loading = asyncio.create_task(emit_load(pool, 200))
        # The cursor lags what exists by 300 events at least: the resume replays pages of
        # them while the load goes on.
        await first.wait_until(lambda r: len(r.events) >= 900)
        await first.close()
        cursor = first.positions()[599]
        second = await Recorder().connect(
            gateway.url, auth={"token": token("u1"), "after": cursor, "batch": batch}
        )
        ack, before_ack = await second.call_marked(
            "subscribe",
            {"channels": ["user:u1", "execution:ex_a"], "after": cursor, "batch": batch},
        )
        assert ack["ok"] and ack["recovered"], ack
        assert ack["channels"] == ["user:u1", "execution:ex_a"]
        # The connect's own resume sent events before this subscribe; `replayed` counts this
        # subscribe's (its replay and the live events held behind it).
        assert ack["replayed"] <= before_ack
        await asyncio.wait_for(loading, 60)
        # Committed is not yet numbered: read the expectation once every row has a position.
        unsequenced = "SELECT count(*) = 0 FROM event_outbox WHERE position IS NULL"
        await until(lambda: pool.fetchval(unsequenced), 60)
        expected = await channel_positions(pool, "user:u1", cursor)
        await second.wait_until(lambda r: len(r.events) >= len(expected), 60)
        seen = second.positions()
        assert increasing(first.positions()[:600])
        assert increasing(seen), "positions must strictly increase on one socket"
        assert seen == expected
        if batch:
            assert max(second.frames) > 1
        else:
            assert set(second.frames) == {1}
        await second.close()


async def test_several_channels_replay_with_one_cursor_once_each_in_order(
    gateway: Running, pool: asyncpg.Pool
) -> None:
    await own_execution(pool, "ex_a", "u1")
    await own_execution(pool, "ex_b", "u1")
    await own_execution(pool, "ex_c", "u1")
    await emit_load(pool, 3)
    await emit(pool, *(progress("u1", "ex_c", i) for i in range(5)))
    watcher = await Recorder().connect(gateway.url, "u1")
    await emit(pool, progress("u1", "ex_a", 999))
    # Sequenced after everything before it: once it is out, the history is complete.
    await watcher.wait_until(lambda r: any(e["data"]["step"] == "999" for e in r.events))
    everything = sorted(
        set(await channel_positions(pool, "execution:ex_a"))
        | set(await channel_positions(pool, "execution:ex_b"))
    )
    cursor = everything[3]
    late = await Recorder().connect(gateway.url, "u1")
    assert await late.call("unsubscribe", {"channel": "user:u1"}) == {"ok": True}
    ack, before_ack = await late.call_marked(
        "subscribe", {"channels": ["execution:ex_a", "execution:ex_b"], "after": cursor}
    )
    assert ack["replayed"] == before_ack
    wanted = [p for p in everything if p > cursor]
    assert ack == {
        "ok": True,
        "channel": "execution:ex_a",
        "channels": ["execution:ex_a", "execution:ex_b"],
        "position": wanted[-1],
        "replayed": len(wanted),
        "recovered": True,
        "presence": None,
        "presences": {"execution:ex_a": [], "execution:ex_b": []},
    }
    assert late.positions() == wanted
    await watcher.close()
    await late.close()


async def test_batches_only_for_clients_that_ask(gateway: Running, pool: asyncpg.Pool) -> None:
    plain = await Recorder().connect(gateway.url, "u1")
    batched = await Recorder().connect(gateway.url, auth={"token": token("u1"), "batch": True})
    late = await Recorder().connect(gateway.url, "u1")
    ack = await late.call("subscribe", {"channel": "user:u1", "batch": True})
    assert ack["ok"] and ack["replayed"] == 0
    await emit(pool, *(progress("u1", "ex_x", i) for i in range(50)))
    for client in (plain, batched, late):
        await client.wait_until(has_events(50))
        assert increasing(client.positions())
    # One transaction is one outbox page: a batching socket gets it in one message.
    assert plain.frames == [1] * 50
    assert batched.frames == [50]
    assert late.frames == [50]
    assert batched.events == plain.events
    for client in (plain, batched, late):
        await client.close()


async def test_bad_connect_options_are_refused_with_a_code(gateway: Running) -> None:
    client = Recorder()
    errors: list[Any] = []
    client.client.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(gateway.url, auth={"token": token("u1"), "after": -3})
    assert [e["data"]["code"] for e in errors] == ["bad_request"]
