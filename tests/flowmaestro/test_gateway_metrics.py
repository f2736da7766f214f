"""`gateway --workers 4`: one scrape of /metrics, whichever process answers it, shows the
sum over all four. Every counter equals the work done, on every scrape, and only grows,
also across a worker killed and replaced."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.flowmaestro.test_gateway_workers import supervisor, wait_started, workers
from tests.gateway.harness import Recorder, emit, has_events, progress
from tests.support.ports import free_port

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer

pytestmark = pytest.mark.slow

PROCESSES = 4
CLIENTS = 16
SCRAPES = 12


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def scrape(url: str) -> list[dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    """SCRAPES scrapes, each on a connection of its own (so any process may answer)."""
    answers = []
    for _ in range(SCRAPES):
        async with httpx.AsyncClient() as http:
            answers.append(samples((await http.get(f"{url}/metrics")).text))
    return answers


DELIVERIES = ("flowmaestro_gateway_deliveries_total", ())
CONNECTIONS = ("flowmaestro_gateway_connections", ())
EMITTED = ("flowmaestro_gateway_events_emitted_total", (("type", "node:progress"),))


@pytest.mark.slow
async def test_one_scrape_sums_every_process(
    database_dsn: str,
    pool: asyncpg.Pool,
    sequencer: Sequencer,
    temporal_env: WorkflowEnvironment,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with supervisor(database_dsn, temporal_env, port, PROCESSES) as gateway:
        clients = [await Recorder().connect(url, "u1") for _ in range(CLIENTS)]
        sent = 0
        for batch in (10, 5):
            await emit(pool, *(progress("u1", "ex_m", sent + i) for i in range(batch)))
            sent += batch
            for client in clients:
                await client.wait_until(has_events(sent))
            for answer in await scrape(url):
                # Each process fans out every event; each socket got each one.
                assert answer[DELIVERIES] == CLIENTS * sent, answer[DELIVERIES]
                assert answer[EMITTED] == PROCESSES * sent, answer[EMITTED]
                assert answer[CONNECTIONS] == CLIENTS

        # A killed process's counts stay in the totals; its sockets leave the gauge.
        victim = workers(gateway)[0]
        victim.send_signal(signal.SIGKILL)
        await wait_started(gateway, PROCESSES + 1)
        for answer in await scrape(url):
            assert answer[DELIVERIES] == CLIENTS * sent
            assert answer[EMITTED] == PROCESSES * sent
            assert answer[CONNECTIONS] <= CLIENTS
        for client in clients:
            if client.client.connected:
                await client.close()
