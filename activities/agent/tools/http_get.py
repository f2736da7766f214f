"""`http_get`: fetch a URL's text, capped in size so a page cannot flood the model.

A model chooses the URL, so by default hosts that resolve to loopback, private, link-local
or reserved addresses (the worker's own network, cloud metadata) are refused.
"""

from __future__ import annotations

import asyncio
import ipaddress

import httpx
from pydantic import JsonValue

from activities.agent.errors import ToolError
from activities.agent.messages import ToolSpec


class HttpGet:
    spec = ToolSpec(
        name="http_get",
        description="GET an http(s) URL; returns its status and (truncated) text.",
        parameters={
            "type": "object",
            "properties": {"url": {"type": "string"}},
            "required": ["url"],
        },
    )

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        max_bytes: int = 64 * 1024,
        timeout_seconds: float = 10,
        allow_private: bool = False,
    ) -> None:
        self._http = http
        self._max_bytes = max_bytes
        self._timeout = timeout_seconds
        self._allow_private = allow_private

    async def call(self, arguments: dict[str, JsonValue]) -> JsonValue:
        url = arguments.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ToolError("`url` must be an http:// or https:// URL", type="invalid_arguments")
        if not self._allow_private:
            await _refuse_private(url)
        body = bytearray()
        truncated = False
        try:
            async with self._http.stream("GET", url, timeout=self._timeout) as response:
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self._max_bytes:
                        truncated = True
                        break
        except httpx.HTTPError as exc:
            raise ToolError(f"GET {url}: {exc!r}", type="http_error") from exc
        text = bytes(body[: self._max_bytes]).decode(response.encoding or "utf-8", errors="replace")
        return {"status": response.status_code, "text": text, "truncated": truncated}


async def _refuse_private(url: str) -> None:
    parsed = httpx.URL(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parsed.host, parsed.port or 443)
    except OSError as exc:
        raise ToolError(f"GET {url}: cannot resolve {parsed.host}", type="http_error") from exc
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0])
        if not address.is_global:
            raise ToolError(
                f"GET {url}: {parsed.host} is a private address ({address})", type="forbidden_host"
            )
