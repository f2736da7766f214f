"""The ASGI gateway: Socket.IO rooms fed from the outbox, JWT auth, resume by position, user
input relayed to Temporal, the HTTP API with SSE, metrics and health."""

from __future__ import annotations

from flowmaestro.gateway.app import Gateway, create_app
from flowmaestro.gateway.auth import mint_token
from flowmaestro.gateway.config import GatewayConfig
from flowmaestro.gateway.redaction import uvicorn_log_config

__all__ = ["Gateway", "GatewayConfig", "create_app", "mint_token", "uvicorn_log_config"]
