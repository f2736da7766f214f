"""Presence across two gateway processes sharing only Postgres: a subscribe's ack says who
else watches (by user, not by socket), `presence:join` / `presence:leave` follow from either
gateway, and a gateway killed with SIGKILL leaves once its lease runs out."""

from __future__ import annotations

import contextlib
import uuid
from typing import TYPE_CHECKING

import pytest

from flowmaestro.gateway.presence import others
from tests.broker.servers import BINARIES, broker_server
from tests.events.outbox.helpers import until
from tests.gateway.harness import Recorder, own_execution
from tests.gateway.process import GatewayProcess, gateway_env

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from tests.broker.servers import BrokerServer

CHANNEL = "execution:ex_p"
# A backend LISTENing for presence (asyncpg's listening connection keeps it as its last query).
LISTENING = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND query LIKE 'LISTEN %flowmaestro_presence%'
"""


@contextlib.asynccontextmanager
async def fanout(kind: str) -> AsyncIterator[tuple[dict[str, str], BrokerServer | None]]:
    """The gateways' environment for presence over `kind` (a throwaway NATS of the test's
    own, or none), and that broker."""
    if kind == "postgres":
        yield {}, None
        return
    if BINARIES["nats"] is None:
        pytest.skip("nats-server not installed")
    async with broker_server("nats") as server:
        yield (
            {
                "FLOWMAESTRO_BROKER_URL": server.url,
                "FLOWMAESTRO_BROKER_CHANNEL": f"presence-{uuid.uuid4().hex[:8]}",
            },
            server,
        )


async def listening(pool: asyncpg.Pool, expected: int) -> None:
    async def check() -> bool:
        return bool(await pool.fetchval(LISTENING) == expected)

    await until(check, timeout=20)


def test_a_socket_sees_its_own_user_only_on_other_connections() -> None:
    assert others({"u1": 1}, "u1") == []
    assert others({"u1": 2}, "u1") == ["u1"]
    assert others({"u1": 1, "u2": 3}, "u2") == ["u1", "u2"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["postgres", "nats"])
async def test_presence_across_gateways_and_a_gateway_killed(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment, kind: str
) -> None:
    await own_execution(pool, "ex_p", "u1")
    await pool.execute(
        "INSERT INTO knowledge_bases (id, owner_id, name) VALUES ('kb_p', 'u1', 'k')"
    )
    async with fanout(kind) as (brokered, _):
        env = {
            **gateway_env(database_dsn, temporal_env.client, "unused"),
            "FLOWMAESTRO_PRESENCE_HEARTBEAT_SECONDS": "0.3",
            "FLOWMAESTRO_PRESENCE_TTL_SECONDS": "2",
            # One process per gateway, so one lease each: B's goes in the very sweep that
            # tells tab1 it left. (Under a supervisor each worker holds a lease; a killed
            # B's idle worker's lease could expire after A's last sweep and outlive the test.)
            "FLOWMAESTRO_GATEWAY_WORKERS": "1",
            **brokered,
        }
        async with GatewayProcess(env) as a, GatewayProcess(env) as b:
            if brokered:
                for gateway in (a, b):
                    await gateway.wait_output("presence: signals over the broker", timeout=20)
            await listening(pool, 0 if brokered else 2)  # over a broker, nobody LISTENs
            tab1 = await watched_from_two_gateways(a, b, pool)
        # A stopped cleanly (tab1 still subscribed): it released its lease and rows.
        leases = await pool.fetch("SELECT gateway_id, expires_at > now() FROM gateway_leases")
        assert leases == [], a.output
        assert await pool.fetchval("SELECT count(*) FROM presence") == 0
        await tab1.close()


async def watched_from_two_gateways(
    a: GatewayProcess, b: GatewayProcess, pool: asyncpg.Pool
) -> Recorder:
    """tab1 on A follows u1's other tabs on B, and B's death; returns tab1, still open."""
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
    return tab1


OVER_THE_BROKER = "presence: signals over the broker"


async def back_on_the_broker(gateway: GatewayProcess) -> None:
    """Until it says a second time that it signals over the broker."""
    await gateway.wait_until(lambda: gateway.count(OVER_THE_BROKER) >= 2, OVER_THE_BROKER, 30)


@pytest.mark.slow
async def test_presence_listens_on_postgres_while_the_broker_is_away(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    """The broker lost, each gateway LISTENs, so a change made meanwhile still reaches the
    other; the broker back, they stop listening and signal over it again."""
    await own_execution(pool, "ex_p", "u1")
    async with fanout("nats") as (brokered, server):
        assert server is not None
        env = {
            **gateway_env(database_dsn, temporal_env.client, "unused"),
            "FLOWMAESTRO_GATEWAY_WORKERS": "1",
            **brokered,
        }
        async with GatewayProcess(env) as a, GatewayProcess(env) as b:
            for gateway in (a, b):
                await gateway.wait_output(OVER_THE_BROKER, timeout=20)
            tab1 = await Recorder().connect(a.url, "u1")
            assert (await tab1.call("subscribe", {"channel": CHANNEL}))["presence"] == []

            await server.stop()
            for gateway in (a, b):
                await gateway.wait_output("presence: broker lost", timeout=20)
            await listening(pool, 2)
            tab2 = await Recorder().connect(b.url, "u1")
            assert (await tab2.call("subscribe", {"channel": CHANNEL}))["presence"] == ["u1"]
            await tab1.wait_until(lambda r: len(r.presence) >= 1)

            await server.start()
            for gateway in (a, b):
                await back_on_the_broker(gateway)
            await listening(pool, 0)
            await tab2.close()
            await tab1.wait_until(lambda r: len(r.presence) >= 2)
            assert tab1.presence == [("presence:join", "u1"), ("presence:leave", "u1")]
            await tab1.close()
