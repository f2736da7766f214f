"""`flowmaestro gateway` as a process of its own, which a test can kill (SIGKILL, as a crash)
and start again on the same port."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Self

from tests.gateway.harness import SECRET
from tests.support.ports import free_port
from tests.support.processes import FLOWMAESTRO, Child

if TYPE_CHECKING:
    from temporalio.client import Client


def gateway_env(database_dsn: str, temporal: Client, task_queue: str) -> dict[str, str]:
    return {
        "FLOWMAESTRO_DATABASE_URL": database_dsn,
        "FLOWMAESTRO_TEMPORAL_ADDRESS": temporal.service_client.config.target_host,
        "FLOWMAESTRO_JWT_SECRET": SECRET,
        "FLOWMAESTRO_TASK_QUEUE": task_queue,
        "FLOWMAESTRO_LOG_LEVEL": "INFO",
        # Stopped with SIGTERM at the end of a test: no drain (test_drain sets its own).
        "FLOWMAESTRO_DRAIN_SECONDS": "0",
    }


class GatewayProcess(Child):
    """`async with GatewayProcess(env) as gw:` runs one on a fixed free port (`gw.url`);
    `kill()` and `start()` crash and restart it there."""

    def __init__(self, env: dict[str, str], port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(
            *(FLOWMAESTRO, "gateway", "--host", "127.0.0.1", "--port", str(self.port)),
            env={**os.environ, **env},
            name="gateway",
        )

    async def start(self) -> Self:
        """Started once uvicorn says it listens."""
        listening = self.count("Uvicorn running on")
        await super().start()
        await self.wait_until(lambda: self.count("Uvicorn running on") > listening, "listening")
        return self
