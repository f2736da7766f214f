"""Teams in headless Chromium (docs/teams.md): two signed-in users of one workspace in two
browser contexts against a gateway and worker process, Temporal and Postgres. The requester
sees "waiting for finance" and no form; a finance member finds the prompt in the Inbox,
answers it, and the requester's page completes showing who answered. web/e2e/teams.mjs reads
the pages; screenshots go to test-artifacts/browser/teams/."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from flowmaestro.gateway.auth import mint_token
from tests.security.test_team_answers import FLOW as EXPENSE
from tests.web.driver import ARTIFACTS, drive, missing
from tests.web.stack import Stack

if TYPE_CHECKING:
    from temporalio.testing import WorkflowEnvironment

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(missing() is not None, reason=missing() or ""),
]


async def test_a_finance_member_answers_the_requesters_prompt_from_the_inbox(
    database_dsn: str, temporal_env: WorkflowEnvironment
) -> None:
    secret = uuid.uuid4().hex
    address = temporal_env.client.service_client.config.target_host
    alice = mint_token(secret, "alice", 3600, workspace="acme", groups=["eng"])
    carol = mint_token(secret, "carol", 3600, workspace="acme", groups=["finance"])
    async with Stack(database_dsn, address, secret, ARTIFACTS / "teams") as stack:

        async def serve(request: dict[str, Any]) -> dict[str, Any]:
            assert request["request"] == "start-expense", request
            async with httpx.AsyncClient(base_url=stack.base_url) as http:
                started = await http.post(
                    "/api/executions",
                    json={"flow": EXPENSE},
                    headers={"Authorization": f"Bearer {alice}"},
                )
            assert started.status_code == 201, started.text
            return {"executionId": started.json()["executionId"]}

        output = await drive("teams.mjs", stack.base_url, alice, serve, env={"TOKEN2": carol})
    assert output[-1] == "-- done", output
