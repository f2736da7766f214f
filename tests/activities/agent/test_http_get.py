"""The http_get tool against a real local server (opened by the operator allowlist)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import pytest

from flowmaestro.activities.agent.errors import ToolError
from flowmaestro.activities.agent.tools.http_get import HttpGet
from flowmaestro.security import Limits
from flowmaestro.security.egress import EgressGuard
from tests.http_server import scripted_server
from tests.node_services import LOCAL

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def tool(limits: Limits = LOCAL, **kwargs: object) -> AsyncIterator[HttpGet]:
    async with EgressGuard(limits) as egress:
        yield HttpGet(egress, **kwargs)  # type: ignore[arg-type]


async def test_returns_status_and_text() -> None:
    async with scripted_server([(200, b"hello agent")]) as (url, seen), tool() as http_get:
        result = await http_get.call({"url": url})
    assert result == {"status": 200, "text": "hello agent", "truncated": False}
    assert seen == ["/data"]


async def test_a_large_body_is_cut_at_the_cap() -> None:
    body = b"x" * 100_000
    async with scripted_server([(200, body)]) as (url, _), tool(max_bytes=1000) as http_get:
        result = await http_get.call({"url": url})
    assert result == {"status": 200, "text": "x" * 1000, "truncated": True}


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com", 42])
async def test_refuses_what_is_not_an_http_url(url: object) -> None:
    async with tool() as http_get:
        with pytest.raises(ToolError) as caught:
            await http_get.call({"url": url})  # type: ignore[dict-item]
    assert caught.value.type == "invalid_arguments"


async def test_an_unreachable_host_is_a_tool_error() -> None:
    async with scripted_server([(200, b"")]) as (url, _):
        pass  # the server is closed now: its port refuses connections
    async with tool() as http_get:
        with pytest.raises(ToolError) as caught:
            await http_get.call({"url": url})
    assert caught.value.type == "http_error"


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/", "http://localhost/", "http://10.1.2.3/", "http://169.254.169.254/"],
)
async def test_private_addresses_are_refused_without_the_operator_allowlist(url: str) -> None:
    async with tool(Limits()) as http_get:
        with pytest.raises(ToolError) as caught:
            await http_get.call({"url": url})
    assert caught.value.type == "egress_refused"


async def test_the_flow_can_narrow_but_not_widen() -> None:
    async with (
        scripted_server([(200, b"hi")]) as (url, seen),
        tool(allowed_hosts=["example.com"]) as http_get,
    ):
        with pytest.raises(ToolError) as caught:
            await http_get.call({"url": url})
    assert caught.value.type == "egress_refused" and seen == []
