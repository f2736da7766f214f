"""A `ModelProvider` for any OpenAI-compatible chat completions endpoint (OpenAI, Ollama, vLLM).

Streams with `stream: true` (server-sent events), assembles tool calls from their deltas, and
retries 429 and 5xx answers (honouring `Retry-After`) and connection failures before the
first byte of a turn; a failure mid-stream is left to the activity's retry, which starts a
new attempt's stream.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from flowmaestro.activities.agent.errors import ModelError
from flowmaestro.activities.agent.messages import TextDelta, ToolCall, TurnEnd
from flowmaestro.activities.openai_endpoint import OpenAICompatibleEndpoint, retryable_status

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from flowmaestro.activities.agent.messages import Message, StreamItem, ToolSpec


@dataclass(slots=True)
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class OpenAICompatibleProvider:
    def __init__(self, http: httpx.AsyncClient, endpoint: OpenAICompatibleEndpoint) -> None:
        self._http = http
        self._endpoint = endpoint
        self._url = endpoint.url("/chat/completions")

    @property
    def model(self) -> str:
        return self._endpoint.model

    async def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> AsyncIterator[StreamItem]:
        body: dict[str, Any] = {
            "model": self._endpoint.model,
            "stream": True,
            "messages": [_wire_message(m) for m in messages],
        }
        if tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in tools
            ]
        endpoint, attempt = self._endpoint, 0
        retry_in: float | None
        while True:
            try:
                async with self._http.stream(
                    "POST",
                    self._url,
                    json=body,
                    headers=endpoint.headers,
                    timeout=endpoint.timeout_seconds,
                ) as response:
                    if response.status_code < 400:
                        async for item in _parse(response):
                            yield item
                        return
                    retry_in = await self._refused(response, attempt)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                retry_in = endpoint.retry_in(attempt)
                if retry_in is None:
                    raise ModelError(
                        f"{self._url}: {exc!r}", type="model_unreachable", retryable=True
                    ) from exc
            except httpx.HTTPError as exc:
                raise ModelError(
                    f"{self._url}: {exc!r}", type="model_stream_error", retryable=True
                ) from exc
            await asyncio.sleep(retry_in)
            attempt += 1

    async def _refused(self, response: httpx.Response, attempt: int) -> float:
        """Seconds to wait before retrying an error response; raises when it is final."""
        retry_in = self._endpoint.retry_in(attempt, response)
        if retry_in is None:
            status = response.status_code
            detail = (await response.aread()).decode(errors="replace")[:500]
            raise ModelError(
                f"{self._url}: HTTP {status}: {detail}",
                type=f"model_http_{status}",
                retryable=retryable_status(status),
            )
        return retry_in


def _wire_message(m: Message) -> dict[str, Any]:
    wire: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.tool_calls:
        wire["content"] = m.content or None
        wire["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in m.tool_calls
        ]
    if m.tool_call_id is not None:
        wire["tool_call_id"] = m.tool_call_id
    return wire


async def _parse(response: httpx.Response) -> AsyncIterator[StreamItem]:
    """Server-sent `data:` lines of chat.completion.chunk objects, until `[DONE]`."""
    calls: dict[int, _PartialCall] = {}
    finish_reason: str | None = None
    done = False
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            done = True
            break
        try:
            chunk = json.loads(payload)
        except ValueError as exc:
            raise ModelError(f"unreadable stream chunk: {payload[:200]!r}", retryable=True) from exc
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            if delta.get("content"):
                yield TextDelta(delta["content"])
            for part in delta.get("tool_calls") or ():
                call = calls.setdefault(part.get("index", 0), _PartialCall())
                call.id = part.get("id") or call.id
                function = part.get("function") or {}
                call.name = function.get("name") or call.name
                call.arguments.append(function.get("arguments") or "")
            finish_reason = choice.get("finish_reason") or finish_reason
    if finish_reason is None and not done:
        raise ModelError("the model's stream ended before it finished", retryable=True)
    tool_calls = tuple(
        ToolCall(c.id or f"call_{i}", c.name, "".join(c.arguments) or "{}")
        for i, c in sorted(calls.items())
    )
    yield TurnEnd(tool_calls, finish_reason or "stop")
