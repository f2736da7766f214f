"""The worker's view of its dependencies: one log line per outage change, and (with
FLOWMAESTRO_WORKER_HEALTH_PORT) `/healthz`, `/readyz` and `/metrics` over HTTP.

Postgres's state is the one its writes see (`WriteRetry.postgres`), probed as well every few
seconds so an idle worker notices too; Temporal's is probed the same way.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily

from flowmaestro.events.outbox import Availability
from flowmaestro.gateway.metrics import DependencyMetrics

if TYPE_CHECKING:
    from collections.abc import Iterator

    import asyncpg
    from temporalio.client import Client

    from flowmaestro.activities.write_retry import WriteRetry

WATCH_INTERVAL = 5.0


class _WriteCollector:
    def __init__(self, writes: WriteRetry) -> None:
        self._writes = writes

    def collect(self) -> Iterator[Any]:
        retries = CounterMetricFamily(
            "flowmaestro_write_retries", "Writes retried because Postgres was away"
        )
        retries.add_metric([], self._writes.retries)
        expired = CounterMetricFamily(
            "flowmaestro_write_deadline_exceeded",
            "Writes that failed after waiting the whole write deadline",
        )
        expired.add_metric([], self._writes.expired)
        yield retries
        yield expired


class WorkerHealth:
    """An ASGI app for the worker's health port, and the loop that keeps its state fresh."""

    def __init__(self, pool: asyncpg.Pool, temporal: Client, writes: WriteRetry) -> None:
        self._pool = pool
        self._temporal = temporal
        self.postgres = writes.postgres
        self.temporal = Availability("temporal")
        self.registry = CollectorRegistry()
        self.dependencies = self.register_collectors(self.registry, writes)

    @staticmethod
    def register_collectors(registry: CollectorRegistry, writes: WriteRetry) -> DependencyMetrics:
        """The worker's metrics: its dependencies' state and its writes' retries."""
        registry.register(_WriteCollector(writes))
        return DependencyMetrics(registry)

    async def check(self) -> dict[str, bool]:
        return {
            "postgres": await self.postgres.probe(lambda: self._pool.fetchval("SELECT 1")),
            "temporal": await self.temporal.probe(self._temporal.service_client.check_health),
        }

    async def watch(self, interval: float = WATCH_INTERVAL) -> None:
        while True:
            await self.check()
            await asyncio.sleep(interval)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        status, content_type, body = await self._answer(scope["path"])
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", content_type.encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, path: str) -> tuple[int, str, bytes]:
        if path == "/healthz":
            return 200, "application/json", b'{"status": "ok"}'
        if path == "/readyz":
            checks = await self.check()
            reasons = {
                a.name: a.reason for a in (self.postgres, self.temporal) if a.reason is not None
            }
            ready = all(checks.values())
            body: dict[str, Any] = {"status": "ready" if ready else "unavailable", "checks": checks}
            if reasons:
                body["reasons"] = reasons
            return 200 if ready else 503, "application/json", json.dumps(body).encode()
        if path == "/metrics":
            self.dependencies.record(self.postgres, self.temporal)
            return 200, "text/plain; version=0.0.4", generate_latest(self.registry)
        return (
            404,
            "application/json",
            b'{"error": {"code": "not_found", "message": "no such path"}}',
        )
