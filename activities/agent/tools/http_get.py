"""`http_get`: fetch a URL's text, capped in size so a page cannot flood the model.

A model chooses the URL, so the request goes through the worker's egress guard
(security/egress.py): a refused destination is a tool error (`egress_refused`) the model
is told about. The agent's `http_allowed_hosts` narrows it further.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from pydantic import JsonValue

from flowmaestro.activities.agent.errors import ToolError
from flowmaestro.activities.agent.messages import ToolSpec
from flowmaestro.security.egress import EgressRefusedError

if TYPE_CHECKING:
    from collections.abc import Collection

    from flowmaestro.security.egress import EgressGuard


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
        egress: EgressGuard,
        *,
        max_bytes: int = 64 * 1024,
        timeout_seconds: float = 10,
        allowed_hosts: Collection[str] | None = None,
    ) -> None:
        self._egress = egress
        self._max_bytes = max_bytes
        self._timeout = timeout_seconds
        self._allowed_hosts = allowed_hosts

    async def call(self, arguments: dict[str, JsonValue]) -> JsonValue:
        url = arguments.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ToolError("`url` must be an http:// or https:// URL", type="invalid_arguments")
        body = bytearray()
        truncated = False
        try:
            async with self._egress.stream(
                "GET", url, timeout=self._timeout, allowed_hosts=self._allowed_hosts
            ) as response:
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self._max_bytes:
                        truncated = True
                        break
        except EgressRefusedError as exc:
            raise ToolError(f"GET {url}: {exc}", type=exc.code) from exc
        except (httpx.HTTPError, TimeoutError) as exc:
            raise ToolError(f"GET {url}: {type(exc).__name__}", type="http_error") from exc
        text = bytes(body[: self._max_bytes]).decode(response.encoding or "utf-8", errors="replace")
        return {"status": response.status_code, "text": text, "truncated": truncated}
