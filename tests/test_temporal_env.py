from __future__ import annotations

from temporalio.testing import WorkflowEnvironment


async def test_dev_server_answers(temporal_env: WorkflowEnvironment) -> None:
    assert await temporal_env.client.service_client.check_health()
