from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.gateway.harness import Running, serve

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer


@pytest.fixture
async def gateway(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> AsyncIterator[Running]:
    """A gateway on this test's database, with a sequencer running."""
    async with serve(pool, temporal_env.client) as running:
        yield running
