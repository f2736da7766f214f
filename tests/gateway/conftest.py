from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.gateway.harness import Running, in_process, serve

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import asyncpg
    import httpx
    from temporalio.client import Client
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer


@pytest.fixture
async def gateway(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> AsyncIterator[Running]:
    """A gateway on this test's database, with a sequencer running."""
    async with serve(pool, temporal_env.client) as running:
        yield running


@pytest.fixture
async def api(pool: asyncpg.Pool, no_temporal: Client) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway's HTTP API in process on this test's database: no server, no Temporal."""
    async with in_process(pool, no_temporal) as http:
        yield http
