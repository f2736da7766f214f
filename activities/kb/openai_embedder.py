"""Embeddings from an OpenAI-compatible `/embeddings` endpoint, retried on 429 and 5xx."""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING

import httpx

from activities.kb.errors import KbError

if TYPE_CHECKING:
    from collections.abc import Sequence


class OpenAICompatibleEmbedder:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_seconds: float = 60,
        max_retries: int = 3,
        backoff_seconds: float = 0.5,
    ) -> None:
        self._http = http
        self._url = base_url.rstrip("/") + "/embeddings"
        self._model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout_seconds
        self._max_retries = max_retries
        self._backoff = backoff_seconds

    @property
    def name(self) -> str:
        return self._model

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        body = {"model": self._model, "input": list(texts)}
        for attempt in range(self._max_retries + 1):
            try:
                response = await self._http.post(
                    self._url, json=body, headers=self._headers, timeout=self._timeout
                )
            except httpx.HTTPError as exc:
                if attempt == self._max_retries:
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
                retryable = status == 429 or status >= 500
                if not retryable or attempt == self._max_retries:
                    raise KbError(
                        f"{self._url}: HTTP {status}: {response.text[:300]}",
                        step="embedding",
                        type=f"embedder_http_{status}",
                        retryable=retryable,
                    )
            await asyncio.sleep(self._backoff * 2**attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")


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
