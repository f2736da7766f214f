"""What agents and knowledge bases need from the worker: model endpoints and embedders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flowmaestro.activities.agent.errors import ModelError
from flowmaestro.activities.agent.offline import OfflineProvider
from flowmaestro.activities.agent.openai_compatible import OpenAICompatibleProvider
from flowmaestro.activities.kb.embedder import Embedders
from flowmaestro.activities.openai_endpoint import OpenAICompatibleEndpoint

if TYPE_CHECKING:
    from collections.abc import Sequence

    import httpx

    from flowmaestro.activities.agent.provider import ModelProvider
    from flowmaestro.flows.nodes.agent import ScriptStep

OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class OfflinePace:
    """How the offline model streams: characters per chunk and chunks per second (0: no wait)."""

    chunk_chars: int = 4
    chunks_per_second: float = 0


class Models:
    """Model providers by name: `offline`, or a model of the configured OpenAI-compatible
    endpoint; None means the configured default."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        default_model: str = OFFLINE,
    ) -> None:
        self._http = http
        self._base_url = base_url
        self._api_key = api_key
        self._default = default_model

    def provider(
        self,
        name: str | None,
        *,
        script: Sequence[ScriptStep] = (),
        pace: OfflinePace = OfflinePace(),
    ) -> ModelProvider:
        name = name or self._default
        if name == OFFLINE:
            return OfflineProvider(
                script=script,
                chunk_chars=pace.chunk_chars,
                chunks_per_second=pace.chunks_per_second,
            )
        if self._base_url is None:
            raise ModelError(
                f"model {name!r} needs FLOWMAESTRO_MODEL_BASE_URL (or use model: offline)",
                type="model_unavailable",
                retryable=False,
            )
        endpoint = OpenAICompatibleEndpoint(self._base_url, name, self._api_key)
        return OpenAICompatibleProvider(self._http, endpoint)


@dataclass(frozen=True, slots=True)
class AgentServices:
    models: Models
    embedders: Embedders

    @classmethod
    def offline(cls, http: httpx.AsyncClient) -> AgentServices:
        """Only what needs no endpoint: the offline model and the offline embedder."""
        return cls(Models(http), Embedders(http))
