"""Model endpoints and embedders for agents and knowledge bases, built from the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowmaestro.activities.agent.services import AgentServices, Models
from flowmaestro.activities.kb.embedder import Embedders

if TYPE_CHECKING:
    import httpx

    from flowmaestro.settings import Settings


def agent_services(settings: Settings, http: httpx.AsyncClient) -> AgentServices:
    """FLOWMAESTRO_MODEL* configure both; with no base URL only the offline ones work."""
    api_key = settings.model_api_key.get_secret_value() if settings.model_api_key else None
    return AgentServices(
        Models(
            http,
            base_url=settings.model_base_url,
            api_key=api_key,
            default_model=settings.model,
        ),
        Embedders(http, base_url=settings.model_base_url, api_key=api_key),
    )
