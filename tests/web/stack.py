"""The whole system as separate processes for the browser tests: `flowmaestro worker` and
`flowmaestro gateway` (which can be stopped and started again mid-test) on a test database
and the session's Temporal dev server."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from tests.support.ports import free_port
from tests.support.processes import FLOWMAESTRO, Child, ready

if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType


class Stack:
    """Worker and gateway on their own task queue, so other tests' workers never interfere."""

    def __init__(
        self, database_url: str, temporal_address: str, secret: str, artifacts: Path
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.task_queue = f"browser-{os.getpid()}-{self.port}"
        env = {
            **os.environ,
            "FLOWMAESTRO_DATABASE_URL": database_url,
            "FLOWMAESTRO_TEMPORAL_ADDRESS": temporal_address,
            "FLOWMAESTRO_TASK_QUEUE": self.task_queue,
            "FLOWMAESTRO_JWT_SECRET": secret,
            "FLOWMAESTRO_DRAIN_SECONDS": "0",  # stopped with SIGTERM: no one to hand sockets to
            "FLOWMAESTRO_GATEWAY_HOST": "127.0.0.1",
            "FLOWMAESTRO_GATEWAY_PORT": str(self.port),
            # The retry example calls a local test server, which the egress guard refuses
            # unless the operator allows it.
            "FLOWMAESTRO_LIMITS__EGRESS_ALLOW": '["127.0.0.1/32"]',
        }
        artifacts.mkdir(parents=True, exist_ok=True)
        self.worker = Child(
            FLOWMAESTRO, "worker", env=env, log=artifacts / "worker.log", name="worker"
        )
        self.gateway = Child(
            FLOWMAESTRO, "gateway", env=env, log=artifacts / "gateway.log", name="gateway"
        )

    async def __aenter__(self) -> Stack:
        await self.worker.start()
        await self.start_gateway()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.gateway.stop()
        await self.worker.stop()

    async def start_gateway(self) -> None:
        await self.gateway.start()
        await ready(self.base_url, self.gateway, self.worker)

    async def stop_gateway(self) -> None:
        await self.gateway.stop()
