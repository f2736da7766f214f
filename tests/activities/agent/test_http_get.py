"""The http_get tool against a real local server: text back, capped in size."""

from __future__ import annotations

import httpx
import pytest

from activities.agent.errors import ToolError
from activities.agent.tools.http_get import HttpGet
from tests.http_server import scripted_server


async def test_returns_status_and_text() -> None:
    async with scripted_server([(200, b"hello agent")]) as (url, seen), httpx.AsyncClient() as http:
        result = await HttpGet(http, allow_private=True).call({"url": url})
    assert result == {"status": 200, "text": "hello agent", "truncated": False}
    assert seen == ["/data"]


async def test_a_large_body_is_cut_at_the_cap() -> None:
    body = b"x" * 100_000
    async with scripted_server([(200, body)]) as (url, _), httpx.AsyncClient() as http:
        result = await HttpGet(http, max_bytes=1000, allow_private=True).call({"url": url})
    assert result == {"status": 200, "text": "x" * 1000, "truncated": True}


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com", 42])
async def test_refuses_what_is_not_an_http_url(url: object) -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(ToolError) as caught:
            await HttpGet(http).call({"url": url})  # type: ignore[dict-item]
    assert caught.value.type == "invalid_arguments"


async def test_an_unreachable_host_is_a_tool_error() -> None:
    async with scripted_server([(200, b"")]) as (url, _):
        pass  # the server is closed now: its port refuses connections
    async with httpx.AsyncClient() as http:
        with pytest.raises(ToolError) as caught:
            await HttpGet(http, allow_private=True).call({"url": url})
    assert caught.value.type == "http_error"


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/", "http://localhost/", "http://10.1.2.3/", "http://169.254.169.254/"],
)
async def test_private_addresses_are_refused_by_default(url: str) -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(ToolError) as caught:
            await HttpGet(http).call({"url": url})
    assert caught.value.type == "forbidden_host"
