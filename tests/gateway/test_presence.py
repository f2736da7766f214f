"""Presence across two gateway processes sharing only Postgres: a subscribe's ack says who
else watches (by user, not by socket), `presence:join` / `presence:leave` follow from either
gateway, and a gateway killed with SIGKILL leaves once its lease runs out."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from flowmaestro.gateway.presence import others
from tests.gateway.harness import Recorder, own_execution
from tests.gateway.process import GatewayProcess, gateway_env

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

CHANNEL = "execution:ex_p"


def test_a_socket_sees_its_own_user_only_on_other_connections() -> None:
    assert others({"u1": 1}, "u1") == []
    assert others({"u1": 2}, "u1") == ["u1"]
    assert others({"u1": 1, "u2": 3}, "u2") == ["u1", "u2"]


@pytest.mark.slow
async def test_presence_across_gateways_and_a_gateway_killed(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    await own_execution(pool, "ex_p", "u1")
    await pool.execute(
        "INSERT INTO knowledge_bases (id, owner_id, name) VALUES ('kb_p', 'u1', 'k')"
    )
    env = {
        **gateway_env(database_dsn, temporal_env.client, "unused"),
        "FLOWMAESTRO_PRESENCE_HEARTBEAT_SECONDS": "0.3",
        "FLOWMAESTRO_PRESENCE_TTL_SECONDS": "2",
        # One process per gateway, so one lease each: B's goes in the very sweep that tells
        # tab1 it left. (Under a supervisor each worker holds a lease; a killed B's idle
        # worker's lease could expire after A's last sweep and outlive the test.)
        "FLOWMAESTRO_GATEWAY_WORKERS": "1",
    }
    async with GatewayProcess(env) as a, GatewayProcess(env) as b:
        tab1 = await Recorder().connect(a.url, "u1")
        ack = await tab1.call("subscribe", {"channel": CHANNEL})
        assert ack["ok"] and ack["presence"] == [], ack
        kb_ack = await tab1.call("subscribe", {"channel": "kb:kb_p"})
        assert kb_ack["presence"] == []
        user_ack = await tab1.call("subscribe", {"channel": "user:u1"})
        assert user_ack["presence"] is None  # the user channel has no presence

        # Two more connections of the same user on the other gateway: one join, by user.
        tab2 = await Recorder().connect(b.url, "u1")
        tab3 = await Recorder().connect(b.url, "u1")
        assert (await tab2.call("subscribe", {"channel": CHANNEL}))["presence"] == ["u1"]
        assert (await tab3.call("subscribe", {"channel": CHANNEL}))["presence"] == ["u1"]
        await tab1.wait_until(lambda r: len(r.presence) >= 1)
        # One of them leaves: u1 still watches from the other; then that one leaves too.
        assert await tab3.call("unsubscribe", {"channel": CHANNEL}) == {"ok": True}
        await tab2.close()
        await tab1.wait_until(lambda r: len(r.presence) >= 2)
        assert tab1.presence == [("presence:join", "u1"), ("presence:leave", "u1")]

        # Watching from B again, then B dies without a word: its lease runs out.
        assert (await tab3.call("subscribe", {"channel": CHANNEL}))["presence"] == ["u1"]
        await tab1.wait_until(lambda r: len(r.presence) >= 3)
        await b.kill()
        await tab1.wait_until(lambda r: len(r.presence) >= 4, timeout=30)
        assert tab1.presence == [
            ("presence:join", "u1"),
            ("presence:leave", "u1"),
            ("presence:join", "u1"),
            ("presence:leave", "u1"),
        ]
        gateways = await pool.fetchval("SELECT count(DISTINCT gateway_id) FROM presence")
        assert gateways == 1  # B's rows went with its lease
        assert not tab1.events and not tab1.errors

    # A stopped cleanly (tab1 still subscribed): it released its lease and rows.
    leases = await pool.fetch("SELECT gateway_id, expires_at > now() FROM gateway_leases")
    assert leases == [], a.output
    assert await pool.fetchval("SELECT count(*) FROM presence") == 0
    await tab1.close()
