"""Every HTTP error, validation and routing included, is `{error: {code, message, details}}`
(in process, no server and no Temporal, except where uvicorn's own logging is the point)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi.responses import StreamingResponse

from flowmaestro.gateway import GatewayConfig
from tests.gateway.harness import SECRET, in_process, token

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    import asyncpg
    from temporalio.client import Client

    from tests.gateway.harness import Running


def auth() -> dict[str, str]:
    # Minted when a test runs, not at import: the suite may outlive a token's lifetime.
    return {"Authorization": f"Bearer {token('u1')}"}


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


async def test_a_validation_error_is_bad_request_with_locations(api: httpx.AsyncClient) -> None:
    extra = await api.post(
        "/api/executions", json={"flow": "approval", "colour": "red"}, headers=auth()
    )
    assert extra.status_code == 400
    error = error_of(extra)
    assert error["code"] == "bad_request"
    assert error["details"] == [
        {"loc": ["body", "colour"], "message": "Extra inputs are not permitted"}
    ]
    assert "colour" in error["message"]
    limit = await api.get("/api/executions", params={"limit": 0}, headers=auth())
    assert limit.status_code == 400
    assert error_of(limit)["details"][0]["loc"] == ["query", "limit"]
    not_json = await api.post(
        "/api/knowledge-bases",
        content=b"{",
        headers={**auth(), "Content-Type": "application/json"},
    )
    assert not_json.status_code == 400 and error_of(not_json)["code"] == "bad_request"


async def test_an_unknown_route_is_not_found(api: httpx.AsyncClient) -> None:
    for path in ("/api/nope", "/api/executions/ex_1/nope", "/nothing-here"):
        response = await api.get(path, headers=auth())
        assert response.status_code == 404
        error = error_of(response)
        assert error["code"] == "not_found" and path in error["message"]


async def test_an_unknown_api_route_is_not_found_beside_the_ui(
    pool: asyncpg.Pool, no_temporal: Client, tmp_path: Path
) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>FlowMaestro</title>")
    config = GatewayConfig(jwt_secret=SECRET, static_dir=tmp_path)
    async with in_process(pool, no_temporal, config) as http:
        response = await http.get("/api/nope", headers=auth())
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"
        assert (await http.delete("/api/executions", headers=auth())).status_code == 405


async def test_a_bad_method_is_refused_with_405(api: httpx.AsyncClient) -> None:
    response = await api.delete("/api/executions", headers=auth())
    assert response.status_code == 405
    error = error_of(response)
    assert error["code"] == "bad_request" and "DELETE" in error["message"]
    # Starlette names the methods of the first route on that path.
    assert response.headers["allow"] in ("GET", "POST")


async def test_openapi_documents_the_error_shape(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["ErrorResponse"]["properties"]) == {"error"}
    assert set(schemas["ErrorBody"]["properties"]) == {"code", "message", "details"}
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            refused = operation["responses"]["4XX"]["content"]["application/json"]["schema"]
            assert refused == {"$ref": "#/components/schemas/ErrorResponse"}, path


async def test_an_unexpected_failure_is_answered_internal_and_logged_once(
    gateway: Running, caplog: pytest.LogCaptureFixture
) -> None:
    """Starlette re-raises what an `Exception` handler answered, and uvicorn logged it a
    second time: a failure is logged once, by the gateway, with its traceback; a stream that
    fails after its start is ended."""

    async def broken() -> None:
        raise RuntimeError("broken route")

    async def broken_stream() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"first\n"
            raise RuntimeError("broken stream")

        return StreamingResponse(body())

    gateway.app.http.add_api_route("/test/broken", broken)
    gateway.app.http.add_api_route("/test/broken-stream", broken_stream)
    server = logging.getLogger("uvicorn.error")  # uvicorn's, which does not propagate
    server.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.ERROR):
            async with httpx.AsyncClient(base_url=gateway.url) as http:
                answer = await http.get("/test/broken")
                assert answer.status_code == 500
                assert error_of(answer)["code"] == "internal"
                assert "broken" not in answer.text
                streamed = await http.get("/test/broken-stream")
                assert (streamed.status_code, streamed.text) == (200, "first\n")
    finally:
        server.removeHandler(caplog.handler)
    failures = [r for r in caplog.records if r.exc_info is not None]
    assert [(r.name, str(r.exc_info[1])) for r in failures if r.exc_info] == [
        ("flowmaestro.gateway.http_errors", "broken route"),
        ("flowmaestro.gateway.http_errors", "broken stream"),
    ]
