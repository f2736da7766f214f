from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from flowmaestro.activities.errors import NodeError
from flowmaestro.activities.execution import ExecutionRef
from flowmaestro.activities.nodes.base import NodeContext
from flowmaestro.activities.nodes.http import HttpExecutor
from flowmaestro.events.outbox import NullEmitter
from flowmaestro.flows.nodes.http import HttpConfig
from tests.http_server import scripted_server
from tests.node_services import node_services

if TYPE_CHECKING:
    from flowmaestro.activities.nodes.base import NodeResult


async def call(url: str, **config: object) -> NodeResult:
    async with node_services() as services:
        ctx = NodeContext(
            execution=ExecutionRef(execution_id="ex_1", user_id="u1", workflow_id="f"),
            node_id="fetch",
            node_type="http",
            attempt=1,
            emitter=NullEmitter(),
            services=services,
        )
        return await HttpExecutor().execute(HttpConfig.model_validate({"url": url, **config}), ctx)


async def test_json_and_text_bodies_are_decoded() -> None:
    async with scripted_server([(200, {"a": [1]}), (200, b"plain")]) as (url, _):
        assert (await call(url)).output == {"status": 200, "body": {"a": [1]}}
        assert (await call(url, method="POST", json={"x": 1})).output == {
            "status": 200,
            "body": "plain",
        }


@pytest.mark.parametrize(
    ("status", "type", "retryable"),
    [(500, "http_500", True), (503, "http_503", True), (404, "http_404", False)],
)
async def test_server_errors_retry_client_errors_do_not(
    status: int, type: str, retryable: bool
) -> None:
    async with scripted_server([(status, b"no")]) as (url, _):
        with pytest.raises(NodeError) as failed:
            await call(url)
    assert (failed.value.type, failed.value.retryable) == (type, retryable)


async def test_the_response_size_is_capped() -> None:
    async with scripted_server([(200, b"x" * 5000)]) as (url, _):
        with pytest.raises(NodeError) as failed:
            await call(url, max_response_bytes=1000)
    assert (failed.value.type, failed.value.retryable) == ("response_too_large", False)


async def test_an_unreachable_host_is_a_retryable_error() -> None:
    async with scripted_server([(200, b"")]) as (url, _):
        closed = url  # the server closes when the block ends
    with pytest.raises(NodeError) as failed:
        await call(closed, timeout_seconds=2)
    assert (failed.value.type, failed.value.retryable) == ("http_error", True)


def test_only_http_urls_are_accepted() -> None:
    with pytest.raises(ValueError, match="http"):
        HttpConfig.model_validate({"url": "file:///etc/passwd"})
