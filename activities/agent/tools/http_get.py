"""`http_get`: fetch a URL's text, capped in size so a page cannot flood the model."""

from __future__ import annotations

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
        self, http: httpx.AsyncClient, *, max_bytes: int = 64 * 1024, timeout_seconds: float = 10
    ) -> None:
        self._http = http
        self._max_bytes = max_bytes
        self._timeout = timeout_seconds

    async def call(self, arguments: dict[str, JsonValue]) -> JsonValue:
        url = arguments.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ToolError("`url` must be an http:// or https:// URL", type="invalid_arguments")
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
