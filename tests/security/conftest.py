"""One real stack per test module: Postgres, the Temporal dev server, a worker, a sequencer
and the gateway, configured as an operator would (limits, an egress allowlist, an import
root), with a resolver the tests control. Mallory attacks; alice's trivial flow must still
complete meanwhile, /healthz must answer within a second, and no secret may leak."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
import httpx
import pytest

from flowmaestro.activities.group_commit import GroupCommitEmitter
from flowmaestro.database import with_database
from flowmaestro.events.outbox import Sequencer
from flowmaestro.gateway import GatewayConfig
from flowmaestro.security import Limits
from flowmaestro.workflows.worker import build_worker
from tests.conftest import running
from tests.gateway.harness import SECRET, serve, token
from tests.node_services import node_services
from tests.workflows.helpers import events_until

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Iterator
    from pathlib import Path

    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import StoredEvent
    from flowmaestro.security.egress import IPAddress

T = TypeVar("T")

ATTACKER_HOST = "attacker.test"
"""A name the test resolver answers; the operator allowlist opens it (an outside server)."""
REBIND_HOST = "rebind.test"
"""Answers 127.0.0.2 (allowed) once, then 127.0.0.1 (refused): DNS rebinding."""
ALLOWED_CIDR = "127.0.0.2/32"
"""The operator opens this one loopback address: the tests' "outside" servers live there."""


class TestResolver:
    """The DNS an attacker controls: fixed answers per name, and a rebinding one."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        if host == ATTACKER_HOST:
            return [ipaddress.ip_address("127.0.0.2")]
        if host == REBIND_HOST:
            first = self.asked.count(REBIND_HOST) == 1
            return [ipaddress.ip_address("127.0.0.2" if first else "127.0.0.1")]
        if host == "localhost":
            return [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
        raise OSError(f"no such host {host}")


@dataclass
class Stack:
    url: str
    pool: asyncpg.Pool
    dsn: str
    temporal: WorkflowEnvironment
    task_queue: str
    limits: Limits
    resolver: TestResolver
    import_root: Path

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(user)}"}

    async def post_flow(
        self, user: str, flow: dict[str, Any], inputs: dict[str, Any] | None = None
    ) -> httpx.Response:
        async with httpx.AsyncClient(timeout=30) as http:
            return await http.post(
                f"{self.url}/api/executions",
                json={"flow": flow, "inputs": inputs or {}},
                headers=self.headers(user),
            )

    async def run(self, user: str, flow: dict[str, Any], timeout: float = 60) -> list[StoredEvent]:
        """Start `flow` as `user` through the gateway; its events up to its end."""
        response = await self.post_flow(user, flow)
        assert response.status_code == 201, response.text
        return await events_until(self.pool, response.json()["executionId"], timeout=timeout)

    async def bystander(self) -> None:
        """Alice's trivial flow completes, and /healthz answers within a second."""
        events = await self.run("alice", TRIVIAL, timeout=60)
        assert events[-1].type == "execution:completed", [e.type for e in events]
        async with httpx.AsyncClient(timeout=1.0) as http:
            health = await http.get(f"{self.url}/healthz")
        assert health.status_code == 200

    async def during(self, attack: Awaitable[T]) -> T:
        """Run `attack` while alice's flow runs and /healthz is asked; the attack's result.

        Then: the JWT secret and the database URL appear in no event stored."""
        attacking = asyncio.ensure_future(attack)
        try:
            await self.bystander()
            result = await attacking
        finally:
            if not attacking.done():
                attacking.cancel()
        await self.nothing_leaked()
        return result

    async def nothing_leaked(self) -> None:
        rows = await self.pool.fetch("SELECT envelope::text AS e FROM event_outbox")
        stored = "\n".join(r["e"] for r in rows)
        for secret in (SECRET, self.dsn, self.dsn.split("@")[-1]):
            assert secret not in stored


TRIVIAL: dict[str, Any] = {
    "name": "trivial",
    "nodes": [{"id": "t", "type": "transform", "config": {"output": "{{ 6 * 7 }}"}}],
}

LIMITS = Limits(
    egress_allow=(ALLOWED_CIDR, ATTACKER_HOST),
    max_document_bytes=64 * 1024,
    template_max_seconds=2.0,
)


def node_failure(events: list[StoredEvent], node_id: str) -> dict[str, Any]:
    """The last `node:failed` of `node_id` (its data)."""
    failed = [
        e.envelope["data"]
        for e in events
        if e.type == "node:failed" and e.envelope["data"]["nodeId"] == node_id
    ]
    assert failed, [e.type for e in events]
    data: dict[str, Any] = failed[-1]
    return data


@pytest.fixture(autouse=True)
def no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Whatever an attack made the worker or gateway log, the secret is not in it."""
    caplog.set_level(logging.INFO)
    yield
    assert SECRET not in caplog.text
    assert "postgresql://" not in caplog.text


@pytest.fixture(scope="module")
async def stack(
    server_dsn: str,
    template_database: str,
    temporal_env: WorkflowEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    name = f"fm_sec_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_dsn)
    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    dsn = with_database(server_dsn, name)
    import_root = tmp_path_factory.mktemp("import-root")
    limits = LIMITS.model_copy(update={"kb_import_root": import_root})
    resolver = TestResolver()
    queue = f"sec-{uuid.uuid4().hex[:8]}"
    # The worker's environment holds the secret, as a real worker's would.
    previous = os.environ.get("FLOWMAESTRO_JWT_SECRET")
    os.environ["FLOWMAESTRO_JWT_SECRET"] = SECRET
    try:
        async with (
            asyncpg.create_pool(dsn, min_size=1, max_size=20) as pool,
            running(Sequencer(dsn, poll_interval=0.2)) as sequencer,
            node_services(pool, limits=limits, resolver=resolver) as services,
            build_worker(
                temporal_env.client,
                task_queue=queue,
                emitter=GroupCommitEmitter(pool),
                pool=pool,
                services=services,
            ),
            serve(
                pool,
                temporal_env.client,
                GatewayConfig(jwt_secret=SECRET, task_queue=queue, limits=limits),
            ) as gateway,
        ):
            await asyncio.wait_for(sequencer.active.wait(), 10)
            yield Stack(gateway.url, pool, dsn, temporal_env, queue, limits, resolver, import_root)
    finally:
        if previous is None:
            os.environ.pop("FLOWMAESTRO_JWT_SECRET", None)
        else:
            os.environ["FLOWMAESTRO_JWT_SECRET"] = previous
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
