"""`http`: one HTTP request with a timeout and a response size cap; 5xx and 429 retry.

The request goes through the worker's egress guard (security/egress.py): a destination it
refuses fails the node without retry (`egress_refused`). `allowed_hosts` narrows it further.
"""

from __future__ import annotations

import json

import httpx
from pydantic import JsonValue

from flowmaestro.activities.errors import NodeError
from flowmaestro.activities.nodes.base import NodeContext, NodeExecutor, NodeResult
from flowmaestro.flows.nodes.http import Http, HttpConfig
from flowmaestro.security.egress import EgressRefusedError


class HttpExecutor(Http, NodeExecutor[HttpConfig]):
    async def execute(self, config: HttpConfig, ctx: NodeContext) -> NodeResult:
        what = f"{config.method} {config.url}"
        try:
            async with ctx.services.egress.stream(
                config.method,
                config.url,
                headers=config.headers,
                json=config.json_body,
                timeout=config.timeout_seconds,
                allowed_hosts=config.allowed_hosts,
            ) as response:
                body = await _read_capped(response, config.max_response_bytes, what)
        except EgressRefusedError as exc:
            raise NodeError(f"{what}: {exc}", type=exc.code, retryable=False) from exc
        except (httpx.TimeoutException, TimeoutError) as exc:
            raise NodeError(f"{what}: timed out", type="http_timeout", retryable=True) from exc
        except httpx.HTTPError as exc:
            raise NodeError(f"{what}: {exc}", type="http_error", retryable=True) from exc
        status = response.status_code
        if status >= 500 or status == 429:
            raise NodeError(f"{what}: HTTP {status}", type=f"http_{status}", retryable=True)
        if status >= 400:
            raise NodeError(f"{what}: HTTP {status}", type=f"http_{status}", retryable=False)
        return NodeResult({"status": status, "body": _decode(response, body)})


async def _read_capped(response: httpx.Response, cap: int, what: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > cap:
            raise NodeError(
                f"{what}: response larger than {cap} bytes",
                type="response_too_large",
                retryable=False,
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(response: httpx.Response, body: bytes) -> JsonValue:
    if "json" in response.headers.get("content-type", ""):
        try:
            decoded: JsonValue = json.loads(body)
            return decoded
        except (ValueError, RecursionError):
            pass  # not JSON (or nested too deep to decode): the text
    return body.decode(response.encoding or "utf-8", errors="replace")
