"""All configuration, read once from the environment (prefix FLOWMAESTRO_) and passed down."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from security import Limits


def _default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "flowmaestro"


class Settings(BaseSettings):
    """Every variable is documented in the README's configuration table."""

    model_config = SettingsConfigDict(
        env_prefix="FLOWMAESTRO_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    database_url: str | None = Field(
        default=None, description="Postgres DSN; unset starts an embedded Postgres in state_dir"
    )
    temporal_address: str | None = Field(
        default=None, description="Temporal frontend host:port; unset lets `dev` start one"
    )
    temporal_namespace: str = "default"
    task_queue: str = "flowmaestro"
    run_sequencer: bool = Field(
        default=True, description="run an outbox sequencer in this process (one is active)"
    )
    jwt_secret: SecretStr | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_public_key: Path | None = None
    state_dir: Path = Field(default_factory=_default_state_dir)
    model_base_url: str | None = None
    model_api_key: SecretStr | None = None
    model: str = "offline"
    embedding_model: str = Field(
        default="hash-384", description="embedder of new knowledge bases (hash-N: offline)"
    )
    kb_max_file_bytes: int = Field(default=20 << 20, gt=0, description="largest ingestible file")
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    gateway_max_message_bytes: int = Field(
        default=64 * 1024, gt=0, description="larger client messages are answered too_large"
    )
    gateway_rate_limit: float = Field(
        default=50.0, gt=0, description="client messages per second per socket (burst 2x)"
    )
    gateway_max_queue: int = Field(
        default=1000, gt=3, description="outgoing packets per socket before it is dropped as slow"
    )
    gateway_max_subscriptions: int = Field(default=100, gt=0)
    flows_dir: Path | None = Field(
        default=None, description="flows POST /api/executions starts by name (default: examples/)"
    )
    web_dist: Path | None = Field(
        default=None, description="the built UI the gateway serves at / (default: web/dist)"
    )
    log_level: str = "INFO"
    limits: Limits = Field(
        default_factory=Limits,
        description="every bound on untrusted input: FLOWMAESTRO_LIMITS__<NAME> (docs/security.md)",
    )

    @property
    def embedded_pgdata(self) -> Path:
        return self.state_dir / "pgdata"
