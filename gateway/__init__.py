"""The ASGI gateway: Socket.IO rooms fed from the outbox, JWT auth, resume by position, user
input relayed to Temporal, the HTTP API with SSE, metrics and health."""

from __future__ import annotations

from gateway.app import Gateway, create_app
from gateway.auth import mint_token
from gateway.config import GatewayConfig
from gateway.redaction import uvicorn_log_config

__all__ = ["Gateway", "GatewayConfig", "create_app", "mint_token", "uvicorn_log_config"]
