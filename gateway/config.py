"""What the gateway needs to know, passed in by the composition root (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flowmaestro.security import Limits

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """Every bound on what a client may cost is in `limits` (docs/security.md)."""

    jwt_secret: str | None = None
    jwt_public_key: Path | None = None
    """A PEM public key or a JWKS (JSON) file: RS256 instead of HS256."""
    jwks_url: str | None = None
    """A JWKS URL (RS256), fetched through the egress guard and refreshed: wins over
    `jwt_public_key`."""
    jwks_max_age: float = 300.0
    """How long fetched keys are used before they are fetched again."""
    jwks_min_refresh_interval: float = 30.0
    """An unknown `kid` fetches the JWKS again at most this often."""
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_workspace_claim: str = "org"
    """The claim naming the user's workspace (docs/teams.md)."""
    jwt_groups_claim: str = "groups"
    """The claim listing the user's groups within their workspace."""
    task_queue: str = "flowmaestro"
    flows_dir: Path | None = None
    """Where `POST /api/executions {"flow": "name"}` finds `name.yaml`."""
    static_dir: Path | None = None
    """The built UI served at `/` (web/dist)."""
    sequencer_dsn: str | None = None
    """When set, the app runs an outbox sequencer (the advisory lock keeps one active)."""
    broker_url: str | None = None
    """When set, sequenced batches arrive over this broker (NATS or Redis) instead of each
    process tailing Postgres; an in-process sequencer publishes to it."""
    broker_channel: str = "flowmaestro.sequenced"
    admin_token: str | None = None
    """When set, /metrics, /docs and /openapi.json need `Authorization: Bearer <it>`."""
    limits: Limits = field(default_factory=Limits)
    """Every bound on untrusted input (docs/security.md): flows checked at submission,
    tokens, sockets, uploads."""
    batch_max: int = 256
    """Envelopes per `events` message at most, for a client that asked for batches."""
    input_timeout: float = 30.0
    """How long an answer waits for a worker to run the workflow's Update."""
    replay_page: int = 500
    slow_timeout: float = 10.0
    """How long a replay waits for a socket's queue to drain before calling it slow."""
    ping_interval: float = 25.0
    ping_timeout: float = 20.0
    presence_heartbeat: float = 5.0
    """How often the gateway renews its presence lease and sweeps expired ones."""
    presence_ttl: float = 15.0
    """How long a presence lease lasts unrenewed: a dead gateway's watchers leave after it."""
    drain_seconds: float = 20.0
    """On SIGTERM, the window over which the sockets are handed to other gateways."""
    metrics_dir: Path | None = None
    """prometheus_client's multiprocess directory, shared by the processes on one port."""
