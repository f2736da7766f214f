"""Temporal behind TLS: the gateway, `flowmaestro worker`, `flowmaestro run` and a worker with
the plugin connect to a TLS frontend the test starts, with the CA from the settings, and
refuse a wrong CA."""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING

import asyncpg
import httpx
import pytest
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.worker import Worker

from flowmaestro.errors import UnreachableError
from flowmaestro.settings import Settings
from flowmaestro.temporal import FlowMaestroPlugin, start_options
from flowmaestro.temporal_connection import connect_temporal
from tests.flowmaestro.temporal.own import ACTIVITIES, OrderWorkflow
from tests.flowmaestro.temporal.test_plugin import prompts
from tests.flowmaestro.temporal.tls_proxy import certificates, tls_frontend
from tests.gateway.harness import SECRET, token
from tests.gateway.process import GatewayProcess
from tests.support.ports import free_port
from tests.support.processes import FLOWMAESTRO, Child, run
from tests.workflows.helpers import EXAMPLES, events_until

if TYPE_CHECKING:
    from pathlib import Path

    from temporalio.testing import WorkflowEnvironment


@pytest.mark.slow
async def test_everything_connects_through_tls_with_the_configured_ca(
    temporal_env: WorkflowEnvironment, database_dsn: str, tmp_path: Path
) -> None:
    ca, cert, key = certificates(tmp_path, "temporal.test")
    target = temporal_env.client.service_client.config.target_host
    queue = f"tls-{uuid.uuid4().hex[:8]}"
    async with tls_frontend(target, cert, key) as address:
        settings = Settings(database_url=database_dsn, temporal_address=address, temporal_tls_ca=ca)
        # The CLI's, the worker's and the gateway's one connection function.
        cli = await connect_temporal(settings)
        info = await cli.workflow_service.get_system_info(GetSystemInfoRequest())
        assert info.server_version
        # The plugin fills in the TLS of a client the application connects plainly.
        client = await Client.connect(address, plugins=[FlowMaestroPlugin(settings)])
        env = {
            "FLOWMAESTRO_DATABASE_URL": database_dsn,
            "FLOWMAESTRO_TEMPORAL_ADDRESS": address,
            "FLOWMAESTRO_TEMPORAL_TLS_CA": str(ca),
            "FLOWMAESTRO_JWT_SECRET": SECRET,
            "FLOWMAESTRO_RUN_SEQUENCER": "false",
        }
        async with (
            Worker(client, task_queue=queue, workflows=[OrderWorkflow], activities=ACTIVITIES),
            GatewayProcess(env) as gateway,
            httpx.AsyncClient(base_url=gateway.url) as http,
        ):
            handle = await client.start_workflow(
                OrderWorkflow.run,
                "o-tls",
                id=f"order-{uuid.uuid4().hex[:8]}",
                task_queue=queue,
                **start_options("alice"),
            )
            [prompt] = await prompts(handle)
            # The gateway hands the answer to Temporal over TLS.
            answered = await http.post(
                f"/api/executions/{handle.id}/inputs/{prompt.input_id}",
                json={"value": True},
                headers={"Authorization": f"Bearer {token('alice')}"},
            )
            assert answered.status_code == 200, answered.text
            assert (await handle.result())["approved"] is True

        # `flowmaestro worker` serves, and `flowmaestro run` starts a flow it runs.
        cli_env = {
            **os.environ,
            **env,
            "FLOWMAESTRO_TASK_QUEUE": f"tls-flows-{uuid.uuid4().hex[:8]}",
            "FLOWMAESTRO_RUN_SEQUENCER": "true",
        }
        async with (
            Child(FLOWMAESTRO, "worker", env=cli_env) as flow_worker,
            asyncpg.create_pool(database_dsn, min_size=1, max_size=2) as pool,
        ):
            await flow_worker.wait_output("worker running on task queue")
            code, out, err = await run(
                FLOWMAESTRO,
                "run",
                EXAMPLES / "approval.yaml",
                "--user",
                "alice",
                "--input",
                "amount=20",
                "--input",
                "requester=tls",
                env=cli_env,
            )
            assert code == 0, err
            events = await events_until(pool, out.strip())
            assert events[-1].envelope["type"] == "execution:completed"


@pytest.mark.slow
async def test_a_wrong_ca_is_refused(
    temporal_env: WorkflowEnvironment, database_dsn: str, tmp_path: Path
) -> None:
    _, cert, key = certificates(tmp_path, "temporal.test")
    other, _, _ = certificates(tmp_path, "someone.else")
    target = temporal_env.client.service_client.config.target_host
    async with tls_frontend(target, cert, key) as address:
        wrong = Settings(database_url=database_dsn, temporal_address=address, temporal_tls_ca=other)
        with pytest.raises(UnreachableError, match="cannot reach Temporal"):
            await connect_temporal(wrong)
        with pytest.raises(RuntimeError):
            await Client.connect(address, plugins=[FlowMaestroPlugin(wrong)])
        # Nor plaintext to a TLS frontend.
        with pytest.raises(UnreachableError):
            await connect_temporal(Settings(database_url=database_dsn, temporal_address=address))
        # The gateway does not start.
        code, _, err = await run(
            FLOWMAESTRO,
            "gateway",
            "--host",
            "127.0.0.1",
            "--port",
            str(free_port()),
            env={
                **os.environ,
                "FLOWMAESTRO_DATABASE_URL": database_dsn,
                "FLOWMAESTRO_TEMPORAL_ADDRESS": address,
                "FLOWMAESTRO_TEMPORAL_TLS_CA": str(other),
                "FLOWMAESTRO_JWT_SECRET": SECRET,
            },
        )
        assert code == UnreachableError.exit_code
        assert "cannot reach Temporal" in err
        # Nor does the worker.
        code, _, err = await run(
            FLOWMAESTRO,
            "worker",
            env={
                **os.environ,
                "FLOWMAESTRO_DATABASE_URL": database_dsn,
                "FLOWMAESTRO_TEMPORAL_ADDRESS": address,
                "FLOWMAESTRO_TEMPORAL_TLS_CA": str(other),
            },
        )
        assert code == UnreachableError.exit_code
        assert "cannot reach Temporal" in err
