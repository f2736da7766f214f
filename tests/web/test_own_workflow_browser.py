"""examples/own_workflow in headless Chromium: a gateway process, the example's own worker
(FlowMaestroPlugin) and its starter, the session's Temporal dev server, and
web/e2e/own_workflow.mjs reading the page. Screenshots go to test-artifacts/browser/."""

from __future__ import annotations

import contextlib
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from flowmaestro.gateway.auth import mint_token
from tests.examples.test_own_workflow import example, line_starting
from tests.gateway.process import GatewayProcess
from tests.web.driver import ARTIFACTS, drive, missing

if TYPE_CHECKING:
    from temporalio.testing import WorkflowEnvironment

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(missing() is not None, reason=missing() or ""),
]


async def test_own_workflow_in_the_browser(
    database_dsn: str, temporal_env: WorkflowEnvironment
) -> None:
    secret = uuid.uuid4().hex
    env = {
        "FLOWMAESTRO_TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "FLOWMAESTRO_DATABASE_URL": database_dsn,
        "FLOWMAESTRO_JWT_SECRET": secret,
    }
    starters: list[Any] = []
    async with (
        GatewayProcess({**env, "FLOWMAESTRO_GATEWAY_WORKERS": "1"}) as gateway,
        example(env, "run_worker.py") as worker,
        contextlib.AsyncExitStack() as processes,
    ):
        await line_starting(worker, "worker running")

        async def serve(request: dict[str, Any]) -> dict[str, Any]:
            assert request["request"] == "start-order", request
            starter = await processes.enter_async_context(
                example(env, "run_workflow.py", "shopper")
            )
            starters.append(starter)
            return {"executionId": await line_starting(starter, "execution ")}

        output = await drive(
            "own_workflow.mjs", gateway.url, mint_token(secret, "shopper", 3600), serve
        )
        assert output[-1] == "-- done"
        [starter] = starters
        assert "charged $89.50" in await line_starting(starter, "result ")
    for name in ("30-own-workflow-waiting", "31-own-workflow-completed"):
        assert (ARTIFACTS / f"{name}.png").is_file()
