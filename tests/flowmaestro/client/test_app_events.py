"""The Python client receives a workflow's custom `app:<name>` events like any other: typed
(`AppEvent`), in position order, on the execution it follows."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

from flowmaestro.client import Client
from flowmaestro.events import AppEvent
from flowmaestro.events.envelopes import app_envelope
from tests.flowmaestro.client.test_client import EXECUTION, done, started
from tests.gateway.harness import emit, own_execution, serve, token

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer


async def test_custom_events_reach_the_client_typed(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    await own_execution(pool, EXECUTION, "u1")
    custom = app_envelope(
        "payment.captured",
        {"amount": 89.5, "attempts": 2},
        id=uuid.uuid4(),
        user_id="u1",
        execution_id=EXECUTION,
    )
    await emit(pool, started(), custom, done())
    async with (
        serve(pool, temporal_env.client) as gateway,
        Client(gateway.url, token("u1")) as client,
    ):
        async with asyncio.timeout(30):
            got = [event async for event in client.events(EXECUTION, after=0)]
    assert [e.type for e in got] == [
        "execution:started",
        "app:payment.captured",
        "execution:completed",
    ]
    assert isinstance(got[1], AppEvent) and got[1].data == {"amount": 89.5, "attempts": 2}
