"""A gateway fed by a broker: Socket.IO clients get every event once, in order, while the
broker is there, while it is away (the gateway tails Postgres) and after it is back; /readyz
says why it is not used and the metrics show it."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import httpx
import pytest

from flowmaestro.gateway.config import GatewayConfig
from tests.broker.servers import BINARIES, broker_server
from tests.events.outbox.helpers import until
from tests.gateway.harness import SECRET, Recorder, emit, progress, serve

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

pytestmark = pytest.mark.skipif(BINARIES["nats"] is None, reason="nats-server not installed")


@pytest.mark.slow
async def test_a_gateway_falls_back_to_postgres_while_the_broker_is_away(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    async with broker_server("nats") as nats:
        config = GatewayConfig(
            jwt_secret=SECRET,
            sequencer_dsn=database_dsn,  # numbers and publishes, as in production
            broker_url=nats.url,
            broker_channel=f"fm-test-{uuid.uuid4().hex[:8]}",
        )
        async with (
            serve(pool, temporal_env.client, config) as gateway,
            httpx.AsyncClient(base_url=gateway.url) as http,
        ):
            assert gateway.app.broker is not None
            feed = gateway.app.broker

            async def fanout() -> str:
                ready = await http.get("/readyz")
                assert ready.status_code == 200, ready.text  # ready either way
                return str(ready.json()["fanout"])

            async def fanning_out_from(source: str) -> bool:
                return await fanout() == source

            await until(lambda: fanning_out_from("broker"))
            client = await Recorder().connect(gateway.url, "u1")
            sent = 0

            async def step(count: int) -> None:
                nonlocal sent
                await emit(pool, *(progress("u1", "ex_b", sent + i) for i in range(count)))
                sent += count
                await client.wait_until(lambda r: len(r.events) >= sent)

            await step(3)
            await nats.stop()
            await until(lambda: fanning_out_from("postgres"))
            ready = (await http.get("/readyz")).json()
            assert "connection lost" in ready["reasons"]["broker"], ready
            metrics = (await http.get("/metrics")).text
            assert 'flowmaestro_dependency_up{dependency="broker"} 0.0' in metrics
            assert "flowmaestro_gateway_broker_delivering 0.0" in metrics
            await step(3)  # from the Postgres tail
            await nats.start()
            await until(lambda: fanning_out_from("broker"), timeout=20)
            assert "reasons" not in (await http.get("/readyz")).json()
            await step(3)
            assert client.positions() == list(range(1, 10))
            assert feed.rejected == 0
            await client.close()
