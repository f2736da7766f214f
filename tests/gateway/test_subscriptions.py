"""Subscribing: ownership checked in Postgres on every subscribe, forbidden vs not_found."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowmaestro.gateway import GatewayConfig
from flowmaestro.security import Limits
from tests.gateway.harness import SECRET, Recorder, emit, own_execution, progress, serve

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer
    from tests.gateway.harness import Running


async def test_another_users_channels_are_forbidden(gateway: Running, pool: asyncpg.Pool) -> None:
    await own_execution(pool, "ex_mine", "u1", agents=("writer",))
    await own_execution(pool, "ex_theirs", "u2", agents=("writer",))
    await pool.execute(
        "INSERT INTO knowledge_bases (id, owner_id, name) VALUES ('kb_t', 'u2', 't')"
    )
    await pool.execute(
        "INSERT INTO knowledge_bases (id, owner_id, name) VALUES ('kb_m', 'u1', 'm')"
    )
    client = await Recorder().connect(gateway.url, "u1")
    expected = {
        "execution:ex_theirs": "forbidden",
        "agent:writer:ex_theirs": "forbidden",
        "kb:kb_t": "forbidden",
        "user:u2": "forbidden",
        "execution:ex_nope": "not_found",
        "agent:writer:ex_nope": "not_found",
        "agent:invented:ex_mine": "not_found",
        "kb:kb_nope": "not_found",
        "nonsense": "bad_request",
        "room:x": "bad_request",
        "agent:ex_mine": "bad_request",
    }
    for channel, code in expected.items():
        ack = await client.call("subscribe", {"channel": channel})
        assert ack == {
            "ok": False,
            "error": {"code": code, "message": ack["error"]["message"], "details": None},
        }, channel
    for channel in ("execution:ex_mine", "agent:writer:ex_mine", "kb:kb_m", "user:u1"):
        ack = await client.call("subscribe", {"channel": channel})
        assert ack["ok"] is True and ack["channel"] == channel and ack["recovered"] is True
    assert await client.call("unsubscribe", {"channel": "kb:kb_m"}) == {"ok": True}
    # Ownership is read on every subscribe: a transfer takes effect at once.
    await pool.execute("UPDATE executions SET user_id = 'u2' WHERE id = 'ex_mine'")
    ack = await client.call("subscribe", {"channel": "execution:ex_mine", "after": 0})
    assert ack["error"]["code"] == "forbidden"
    await client.close()


async def test_leaving_the_user_channel_leaves_only_subscribed_events(
    gateway: Running, pool: asyncpg.Pool
) -> None:
    await own_execution(pool, "ex_a", "u1")
    await own_execution(pool, "ex_b", "u1")
    client = await Recorder().connect(gateway.url, "u1")
    assert await client.call("unsubscribe", {"channel": "user:u1"}) == {"ok": True}
    assert (await client.call("subscribe", {"channel": "execution:ex_b"}))["ok"] is True
    await emit(pool, progress("u1", "ex_a", 1), progress("u1", "ex_b", 2))
    await client.wait_until(lambda r: len(r.events) >= 1)
    await emit(pool, progress("u1", "ex_b", 3))
    await client.wait_until(lambda r: len(r.events) >= 2)
    assert [e["data"]["step"] for e in client.events] == ["2", "3"]
    await client.close()


async def test_subscriptions_per_socket_are_bounded(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    for i in range(4):
        await own_execution(pool, f"ex_{i}", "u1")
    async with serve(
        pool,
        temporal_env.client,
        GatewayConfig(jwt_secret=SECRET, limits=Limits(socket_max_subscriptions=3)),
    ) as running:
        client = await Recorder().connect(running.url, "u1")  # user:u1 is the first
        assert (await client.call("subscribe", {"channel": "execution:ex_0"}))["ok"]
        assert (await client.call("subscribe", {"channel": "execution:ex_1"}))["ok"]
        refused = await client.call("subscribe", {"channel": "execution:ex_2"})
        assert refused["error"]["code"] == "bad_request"
        assert (await client.call("subscribe", {"channel": "execution:ex_1"}))["ok"]
        await client.call("unsubscribe", {"channel": "execution:ex_0"})
        assert (await client.call("subscribe", {"channel": "execution:ex_2"}))["ok"]
        await client.close()
