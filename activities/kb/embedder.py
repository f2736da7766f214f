"""The embedder interface, and choosing one by the name a knowledge base records."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from flowmaestro.activities.kb.hashing_embedder import HashingEmbedder
from flowmaestro.activities.kb.openai_embedder import OpenAICompatibleEmbedder
from flowmaestro.activities.openai_endpoint import OpenAICompatibleEndpoint
from flowmaestro.flows.kb.errors import KbError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import httpx


class Embedder(Protocol):
    @property
    def name(self) -> str: ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit-length vector per text, in order."""
        ...


class Embedders:
    """`hash-<dims>` is the offline embedder; any other name is a model of the configured
    OpenAI-compatible endpoint."""

    def __init__(
        self, http: httpx.AsyncClient, *, base_url: str | None = None, api_key: str | None = None
    ) -> None:
        self._http = http
        self._base_url = base_url
        self._api_key = api_key

    def get(self, name: str) -> Embedder:
        if name.startswith("hash-") and name[5:].isdigit():
            return HashingEmbedder(int(name[5:]))
        if self._base_url is None:
            raise KbError(
                f"embedding model {name!r} needs FLOWMAESTRO_MODEL_BASE_URL to be set",
                step="embedding",
                type="embedder_unavailable",
            )
        endpoint = OpenAICompatibleEndpoint(self._base_url, name, self._api_key)
        return OpenAICompatibleEmbedder(self._http, endpoint)
