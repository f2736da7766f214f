"""Waiting for a part to be ready by asking it (health endpoints, pollers), never by sleeping
a guessed time; the wait fails as soon as the part's process dies."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from flowmaestro.errors import FlowMaestroError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from flowmaestro.dev.child import Child

# Between two questions to a part that is still starting.
_INTERVAL = 0.2


class NotReadyError(FlowMaestroError):
    """A part did not become ready in time."""


async def wait_until(
    what: str,
    probe: Callable[[], Awaitable[bool]],
    children: Sequence[Child],
    timeout: float,
) -> None:
    """Ask `probe` until it says yes; fail when a child exits or `timeout` passes."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                for child in children:
                    child.check_alive()
                if await probe():
                    return
                await asyncio.sleep(_INTERVAL)
    except TimeoutError:
        raise NotReadyError(
            f"{what} was not ready after {timeout:g}s", hint="its log lines above say why"
        ) from None


def http_ok(http: httpx.AsyncClient, url: str) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        try:
            return (await http.get(url)).status_code == 200
        except httpx.TransportError:
            return False

    return probe


async def connect_when_healthy(
    address: str, namespace: str, children: Sequence[Child], timeout: float
) -> Client:
    """A client of the Temporal frontend at `address`, once its health check passes."""
    client: Client | None = None

    async def probe() -> bool:
        nonlocal client
        try:
            if client is None:
                client = await Client.connect(
                    address, namespace=namespace, data_converter=pydantic_data_converter
                )
            return await client.service_client.check_health()
        except RuntimeError:
            return False

    await wait_until(f"Temporal at {address}", probe, children, timeout)
    assert client is not None
    return client


def has_workflow_poller(client: Client, task_queue: str, pid: int) -> Callable[[], Awaitable[bool]]:
    """Ready when the worker process `pid` polls `task_queue` for workflow tasks (a worker's
    default identity is `pid@host`; a poller of an earlier run does not count)."""

    async def probe() -> bool:
        described = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        return any(p.identity.startswith(f"{pid}@") for p in described.pollers)

    return probe
