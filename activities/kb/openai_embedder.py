"""Embeddings from an OpenAI-compatible `/embeddings` endpoint, retried on 429 and 5xx."""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING

import httpx

from flowmaestro.activities.openai_endpoint import OpenAICompatibleEndpoint, retryable_status
from flowmaestro.flows.kb.errors import KbError

if TYPE_CHECKING:
    from collections.abc import Sequence


class OpenAICompatibleEmbedder:
    def __init__(self, http: httpx.AsyncClient, endpoint: OpenAICompatibleEndpoint) -> None:
        self._http = http
        self._endpoint = endpoint
        self._url = endpoint.url("/embeddings")

    @property
    def name(self) -> str:
        return self._endpoint.model

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        endpoint, attempt = self._endpoint, 0
        body = {"model": endpoint.model, "input": list(texts)}
        while True:
            try:
                response = await self._http.post(
                    self._url, json=body, headers=endpoint.headers, timeout=endpoint.timeout_seconds
                )
            except httpx.HTTPError as exc:
                retry_in = endpoint.retry_in(attempt)
                if retry_in is None:
                    raise KbError(
                        f"{self._url}: {exc!r}",
                        step="embedding",
                        type="embedder_unreachable",
                        retryable=True,
                    ) from exc
            else:
                status = response.status_code
                if status < 400:
                    return _vectors(response, len(texts))
                retry_in = endpoint.retry_in(attempt, response)
                if retry_in is None:
                    raise KbError(
                        f"{self._url}: HTTP {status}: {response.text[:300]}",
                        step="embedding",
                        type=f"embedder_http_{status}",
                        retryable=retryable_status(status),
                    )
            await asyncio.sleep(retry_in)
            attempt += 1


def _vectors(response: httpx.Response, count: int) -> list[list[float]]:
    try:
        items = sorted(response.json()["data"], key=lambda d: d["index"])
        vectors = [[float(x) for x in item["embedding"]] for item in items]
    except (ValueError, KeyError, TypeError) as exc:
        raise KbError(
            f"unreadable embeddings response: {exc!r}",
            step="embedding",
            type="embedder_bad_response",
        ) from exc
    if len(vectors) != count:
        raise KbError(
            f"asked for {count} embeddings, got {len(vectors)}",
            step="embedding",
            type="embedder_bad_response",
        )
    return [_unit(v) for v in vectors]


def _unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm else vector
