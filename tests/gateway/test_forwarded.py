"""X-Forwarded-For and X-Forwarded-Proto are believed from the configured proxies only
(FLOWMAESTRO_FORWARDED_ALLOW_IPS): uvicorn's access log shows the forwarded client when the
peer is a trusted proxy, and the peer itself otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from tests.gateway.process import GatewayProcess, gateway_env

if TYPE_CHECKING:
    from temporalio.testing import WorkflowEnvironment

pytestmark = pytest.mark.slow

CLIENT = "203.0.113.7"  # TEST-NET-3: only ever a header value here


@pytest.mark.parametrize(("allowed", "believed"), [("127.0.0.1", True), ("192.0.2.1", False)])
async def test_forwarded_headers_only_from_configured_proxies(
    database_dsn: str, temporal_env: WorkflowEnvironment, allowed: str, believed: bool
) -> None:
    env = {
        **gateway_env(database_dsn, temporal_env.client, "forwarded"),
        "FLOWMAESTRO_GATEWAY_WORKERS": "1",
        "FLOWMAESTRO_FORWARDED_ALLOW_IPS": allowed,
    }
    async with GatewayProcess(env) as gateway, httpx.AsyncClient() as http:
        headers = {"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "https"}
        assert (await http.get(f"{gateway.url}/healthz", headers=headers)).status_code == 200
        line = await gateway.wait_output("GET /healthz")
    assert (CLIENT in line) is believed, line
