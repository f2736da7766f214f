"""Review: numbers and encoded text the gateway passes to Postgres unchecked. A position
past bigint (`?after=`, `Last-Event-ID`, a subscribe's `after`) or a cursor whose decoded
execution id holds a NUL reached asyncpg and answered 500 / `internal`."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.gateway.harness import Recorder, own_execution
from tests.security.stack import gateway_stack

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

HUGE = str(1 << 70)


def cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.slow
async def test_out_of_range_positions_and_bad_cursors_are_bad_requests(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    await own_execution(pool, "ex_r", "mallory")
    async with (
        gateway_stack(database_dsn, temporal_env.client) as stack,
        httpx.AsyncClient(base_url=stack.url, timeout=30) as http,
    ):
        auth = stack.auth("mallory")
        requests = [
            ("/api/executions/ex_r/events", {"after": HUGE}, {}),
            ("/api/executions/ex_r/stream", {"after": HUGE}, {}),
            ("/api/executions/ex_r/stream", {}, {"Last-Event-ID": HUGE}),
            ("/api/stream", {"channel": "execution:ex_r", "after": HUGE}, {}),
            ("/api/executions", {"cursor": cursor("2026-01-01T00:00:00+00:00|ex\x00")}, {}),
        ]
        for path, params, headers in requests:
            answer = await http.get(path, params=params, headers={**auth, **headers})
            assert answer.status_code == 400, (path, params, headers, answer.text)
            assert answer.json()["error"]["code"] == "bad_request"
        client = await Recorder().connect(stack.url, "mallory")
        ack = await client.call("subscribe", {"channel": "execution:ex_r", "after": 1 << 70})
        assert ack["ok"] is False and ack["error"]["code"] == "bad_request", ack
        await client.close()
