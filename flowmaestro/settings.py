"""All configuration, read once from the environment (prefix FLOWMAESTRO_) and passed down."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from flowmaestro.activities.write_retry import MAX_DEADLINE_SECONDS
from flowmaestro.broker import BrokerError, check_url
from flowmaestro.security import Limits


def _default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "flowmaestro"


# The gateway's limits had variables of their own before `Limits`; they are still read, and
# the FLOWMAESTRO_LIMITS__ names win over them.
_LEGACY_LIMITS = {
    "FLOWMAESTRO_KB_MAX_FILE_BYTES": "max_document_bytes",
    "FLOWMAESTRO_GATEWAY_MAX_MESSAGE_BYTES": "socket_max_message_bytes",
    "FLOWMAESTRO_GATEWAY_RATE_LIMIT": "socket_messages_per_second",
    "FLOWMAESTRO_GATEWAY_MAX_QUEUE": "socket_max_queue",
    "FLOWMAESTRO_GATEWAY_MAX_SUBSCRIPTIONS": "socket_max_subscriptions",
}


class _LegacyLimits(PydanticBaseSettingsSource):
    """The old limit variables as `limits` values (FLOWMAESTRO_GATEWAY_RATE_LIMIT=R also
    sets bursts of 2R, as it did)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            name: os.environ[old] for old, name in _LEGACY_LIMITS.items() if old in os.environ
        }
        rate = found.get("socket_messages_per_second")
        if rate is not None:
            # An invalid rate is reported by Limits itself.
            with contextlib.suppress(ValueError):
                found["socket_message_burst"] = max(1, int(2 * float(rate)))
        return {"limits": found} if found else {}


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
    temporal_api_key: SecretStr | None = Field(
        default=None, description="Temporal API key (Temporal Cloud); turns TLS on"
    )
    temporal_tls: bool = Field(
        default=False,
        description="connect to Temporal over TLS (implied by any TEMPORAL_TLS_* or API key)",
    )
    temporal_tls_ca: Path | None = Field(
        default=None, description="PEM file of the CA Temporal's certificate must chain to"
    )
    temporal_tls_cert: Path | None = Field(
        default=None, description="PEM client certificate for mTLS (with temporal_tls_key)"
    )
    temporal_tls_key: Path | None = Field(
        default=None, description="PEM private key of temporal_tls_cert"
    )
    temporal_tls_server_name: str | None = Field(
        default=None, description="the name Temporal's certificate is checked against (SNI)"
    )
    task_queue: str = "flowmaestro"
    run_sequencer: bool = Field(
        default=True, description="run an outbox sequencer in this process (one is active)"
    )
    broker_url: SecretStr | None = Field(
        default=None,
        description="fan out sequenced batches over this broker: nats://host:4222 (measured "
        "first choice) or redis://host:6379/0; unset: every gateway process tails Postgres",
    )
    broker_channel: str = Field(
        default="flowmaestro.sequenced",
        pattern=r"^[A-Za-z0-9_.-]{1,200}$",
        description="the broker subject (NATS) or channel (Redis): one per database",
    )
    jwt_secret: SecretStr | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_public_key: Path | None = None
    jwks_url: str | None = Field(
        default=None,
        description="a JWKS URL (RS256) fetched through the egress guard, refreshed with no "
        "restart; wins over jwt_public_key",
    )
    jwks_max_age_seconds: float = Field(
        default=300.0, gt=0, description="how long fetched JWKS keys are used before a refetch"
    )
    jwks_min_refresh_seconds: float = Field(
        default=30.0,
        ge=0,
        description="a token with an unknown kid refetches the JWKS at most this often",
    )
    jwt_workspace_claim: str = Field(
        default="org",
        min_length=1,
        description="the token claim naming the user's workspace (absent: a personal workspace "
        "of one); docs/teams.md",
    )
    jwt_groups_claim: str = Field(
        default="groups",
        min_length=1,
        description="the token claim listing the user's groups within the workspace",
    )
    state_dir: Path = Field(default_factory=_default_state_dir)
    model_base_url: str | None = None
    model_api_key: SecretStr | None = None
    model: str = "offline"
    embedding_model: str = Field(
        default="hash-384", description="embedder of new knowledge bases (hash-N: offline)"
    )
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    presence_heartbeat_seconds: float = Field(
        default=5.0, gt=0, description="how often a gateway renews its presence lease"
    )
    presence_ttl_seconds: float = Field(
        default=15.0,
        gt=0,
        description="how long a presence lease lasts unrenewed (a dead gateway's watchers "
        "leave after it)",
    )
    gateway_workers: int = Field(
        default=0,
        ge=0,
        description="gateway processes on the port (0: one per CPU of the container's quota)",
    )
    gateway_pool_size: int = Field(
        default=0, ge=0, description="Postgres connections per gateway process (0: 20 / workers)"
    )
    admin_token: SecretStr | None = Field(
        default=None,
        description="when set, /metrics and /docs answer only `Authorization: Bearer <it>`",
    )
    flows_dir: Path | None = Field(
        default=None, description="flows POST /api/executions starts by name (default: examples/)"
    )
    web_dist: Path | None = Field(
        default=None, description="the built UI the gateway serves at / (default: web/dist)"
    )
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = Field(
        default="text", description="json: one JSON object a line, with execution/trace ids"
    )
    tracing: bool = Field(
        default=False,
        description="OpenTelemetry spans from the activity that writes an event to the socket "
        "that sends it (needs a TracerProvider, e.g. opentelemetry-instrument)",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="proxies whose X-Forwarded-For/-Proto the gateway believes (comma list, *)",
    )
    metrics_dir: Path | None = Field(
        default=None,
        validation_alias="PROMETHEUS_MULTIPROC_DIR",
        description="prometheus_client's multiprocess directory (set by `gateway --workers N` "
        "for its processes: one scrape shows them all)",
    )
    drain_seconds: float = Field(
        default=20.0,
        ge=0,
        description="on SIGTERM, how long a gateway takes to hand its sockets to others",
    )
    write_deadline_seconds: float = Field(
        default=900.0,
        gt=0,
        le=MAX_DEADLINE_SECONDS,
        description="how long a write waits out a Postgres outage before failing (docs/operations.md)",
    )
    write_retry_max_interval_seconds: float = Field(
        default=5.0, gt=0, le=60, description="the longest pause between retries of a write"
    )
    worker_health_host: str = "127.0.0.1"
    worker_health_port: int | None = Field(
        default=None,
        description="serve /healthz, /readyz and /metrics from the worker on this port",
    )
    limits: Limits = Field(
        default_factory=Limits,
        description="every bound on untrusted input: FLOWMAESTRO_LIMITS__<NAME> (docs/security.md)",
    )

    @field_validator("broker_url")
    @classmethod
    def _broker_url(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None:
            try:
                check_url(url.get_secret_value())
            except BrokerError as exc:
                raise ValueError(str(exc)) from None
        return url

    @property
    def embedded_pgdata(self) -> Path:
        return self.state_dir / "pgdata"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            _LegacyLimits(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )
