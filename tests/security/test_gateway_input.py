"""Invalid characters anywhere a client writes (a NUL, a lone surrogate: text Postgres
cannot store) are `bad_request` at the gateway, never `internal` or a 500 from deep inside."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from flowmaestro.gateway import mint_token
from tests.gateway.harness import SECRET, Recorder, own_execution
from tests.gateway.test_auth import refusal
from tests.security.stack import TRIVIAL_FLOW, gateway_stack, huge_request, still_serving

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

BAD = ["\x00", "\ud800"]


@pytest.mark.slow
async def test_unstorable_text_in_socket_messages_is_a_bad_request(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    await own_execution(pool, "ex_m", "mallory")
    async with gateway_stack(database_dsn, temporal_env.client) as stack:
        client = await Recorder().connect(stack.url, "mallory")
        messages: list[tuple[str, Any]] = []
        for bad in BAD:
            messages += [
                ("subscribe", {"channel": f"execution:ex{bad}"}),
                ("subscribe", {"channel": f"kb:{bad}"}),
                ("subscribe", {"channel": f"agent:a{bad}:ex_m"}),
                ("unsubscribe", {"channel": f"user:{bad}"}),
                ("user_input:provide", {"executionId": "ex_m", "inputId": "i", "value": bad}),
                ("user_input:provide", {"executionId": f"ex_m{bad}", "inputId": "i", "value": 1}),
                ("user_input:provide", {"executionId": "ex_m", "inputId": "i", "value": {bad: 1}}),
                ("auth:refresh", {"token": bad}),
            ]
        acks, _ = await asyncio.gather(
            asyncio.gather(*(client.call(name, payload) for name, payload in messages)),
            still_serving(stack),
        )
        for (name, payload), ack in zip(messages, acks, strict=True):
            assert ack["ok"] is False and ack["error"]["code"] == "bad_request", (
                name,
                payload,
                ack,
            )
        assert client.client.connected
        await client.close()
        for sub in ("mallory\x00", "\ud800"):
            data = await refusal(stack.url, auth={"token": mint_token(SECRET, sub, 600)})
            assert "sub" in data["message"]
    assert "Traceback" not in stack.log and "ERROR" not in stack.log


@pytest.mark.slow
async def test_unstorable_text_in_http_requests_is_a_bad_request(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    await own_execution(pool, "ex_m", "mallory")
    async with (
        gateway_stack(database_dsn, temporal_env.client) as stack,
        httpx.AsyncClient(base_url=stack.url, timeout=30) as http,
    ):
        auth = stack.auth("mallory")
        requests = [
            http.get("/api/executions/ex%00", headers=auth),
            http.get("/api/executions/ex_m/events", params={"after": "0\x00"}, headers=auth),
            http.get("/api/executions", params={"flow": "a\x00"}, headers=auth),
            http.get("/api/executions?cursor=%ED%A0%80", headers=auth),  # a lone surrogate
            http.get("/api/stream", params={"channel": "execution:\x00"}, headers=auth),
            http.post("/api/knowledge-bases", json={"name": "a\x00"}, headers=auth),
            http.post(
                "/api/executions",
                json={"flow": TRIVIAL_FLOW, "inputs": {"x": "\x00"}},
                headers=auth,
            ),
            http.post(  # json.dumps escapes the surrogate; the gateway decodes it back
                "/api/executions",
                content=json.dumps({"flow": {**TRIVIAL_FLOW, "name": "n\ud800"}}),
                headers={**auth, "Content-Type": "application/json"},
            ),
            http.post("/api/executions/ex_m/inputs/i", json={"value": ["\x00"]}, headers=auth),
            http.post("/api/knowledge-bases/kb%00/documents", headers=auth),
        ]
        answers, _ = await asyncio.gather(asyncio.gather(*requests), still_serving(stack))
        for answer in answers:
            assert answer.status_code == 400, (answer.request.url, answer.text)
            assert answer.json()["error"]["code"] == "bad_request", answer.text
    assert "Traceback" not in stack.log and "ERROR" not in stack.log


@pytest.mark.slow
async def test_a_huge_json_body_is_refused_before_it_is_read(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    size = 256 << 20
    async with gateway_stack(
        database_dsn, temporal_env.client, http_max_body_bytes=1 << 20
    ) as stack:
        headers = {**stack.auth("mallory"), "Content-Type": "application/json"}
        for declared in (False, True):
            (status, body, sent), _ = await asyncio.gather(
                huge_request(
                    stack.url, "/api/executions", headers, b'{"inputs": "', size, declared=declared
                ),
                still_serving(stack),
            )
            assert status == 413 and body["error"]["code"] == "too_large", body
            assert body["error"]["details"]["limit"] == "http_max_body_bytes"
            assert sent < size // 4
