"""Every bound on what an untrusted flow, document or client may cost, in one object.

It is a field of `flowmaestro.settings.Settings` (environment `FLOWMAESTRO_LIMITS__<NAME>`,
e.g. `FLOWMAESTRO_LIMITS__MAX_NODES=500`) and is passed down to whatever enforces a bound.
Every field is documented in docs/security.md.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class Limits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- Flow documents (checked at submission, before anything runs) ---
    max_nodes: int = Field(default=500, gt=0, description="nodes in one flow")
    max_flow_bytes: int = Field(
        default=1 << 20, gt=0, description="a flow document's size (JSON or YAML)"
    )
    max_flow_depth: int = Field(
        default=32, gt=0, description="nesting of a flow document's objects and arrays"
    )
    max_template_bytes: int = Field(
        default=16 << 10, gt=0, description="one template string in a node's config"
    )
    max_flow_template_bytes: int = Field(
        default=32 << 10,
        gt=0,
        description="all template strings of one flow together (parsing them is the check's cost)",
    )
    max_template_nesting: int = Field(
        default=24, gt=0, description="brackets and blocks open at once in one template"
    )

    # --- Template rendering (per node attempt, in a separate process) ---
    template_max_output_chars: int = Field(
        default=1 << 20, gt=0, description="characters one node's rendered templates produce"
    )
    template_max_operations: int = Field(
        default=100_000,
        gt=0,
        description="loop iterations, calls and filters in one node's templates",
    )
    template_max_range: int = Field(default=10_000, gt=0, description="length of one range()")
    template_max_seconds: float = Field(
        default=2.0, gt=0, description="render time of one node's templates (the process is killed)"
    )
    template_processes: int = Field(default=2, gt=0, description="render processes per worker")
    template_max_memory_bytes: int = Field(
        default=1 << 30, ge=64 << 20, description="address space of one render process"
    )

    # --- Outbound requests a flow controls (http node, http_get tool) ---
    egress_allow: tuple[str, ...] = Field(
        default=(),
        description="CIDRs and host names flows may reach although private (operator only)",
    )
    egress_max_redirects: int = Field(default=5, ge=0, description="redirect hops followed")

    # --- Files and documents ---
    max_document_bytes: int = Field(
        default=20 << 20, gt=0, description="one knowledge-base document, enforced while reading"
    )
    kb_import_root: Path | None = Field(
        default=None,
        description="the only directory kb_ingest `path` may read (unset: no file is readable)",
    )

    # --- Agent tools ---
    tool_timeout_seconds: float = Field(
        default=10.0, gt=0, description="one tool call (its failure is told to the model)"
    )

    # --- Tokens ---
    token_max_lifetime_seconds: int = Field(
        default=24 * 3600,
        gt=0,
        description="longest accepted token: exp - iat (exp - now without iat)",
    )
    token_max_bytes: int = Field(
        default=32 * 1024,
        gt=0,
        description="a longer token is refused before it is decoded",
    )
    token_max_groups: int = Field(
        default=100,
        gt=0,
        description="entries in a token's groups claim (more: the token is refused)",
    )
    token_refresh_warning_seconds: float = Field(
        default=60.0,
        ge=0,
        description="`auth:expiring` is sent this long before a socket's token expires",
    )

    # --- Sockets (per connection) ---
    socket_max_message_bytes: int = Field(
        default=64 * 1024, gt=0, description="a larger message is answered too_large"
    )
    socket_max_frame_bytes: int = Field(
        default=1 << 20, gt=0, description="a larger websocket frame closes the connection"
    )
    socket_messages_per_second: float = Field(
        default=50.0,
        gt=0,
        description="frames a socket may send per second (events, pings, refused ones alike)",
    )
    socket_message_burst: int = Field(
        default=100,
        gt=0,
        description="bucket size; overdrawn by one more burst, the socket is disconnected",
    )
    socket_max_queue: int = Field(
        default=1000, gt=3, description="outgoing packets before a socket is dropped as slow"
    )
    socket_max_subscriptions: int = Field(
        default=100, gt=0, description="channels per socket, the user channel included"
    )

    # --- Your own workflows (flowmaestro.temporal) ---
    progress_min_interval_seconds: float = Field(
        default=0.1,
        ge=0,
        description="an activity attempt's `node:progress` events go out at most this often; "
        "calls in between keep only the latest value, which goes out before the attempt ends",
    )
    max_event_data_bytes: int = Field(
        default=64 << 10,
        gt=0,
        description="the JSON of one value an own workflow's event carries (inputs, a result, "
        "a custom event's data)",
    )

    # --- HTTP ---
    http_max_body_bytes: int = Field(
        default=2 << 20, gt=0, description="a request body, uploads excepted (413 too_large)"
    )

    # --- Logs (per gateway process) ---
    log_records_per_minute: int = Field(
        default=20,
        gt=0,
        description="records of one kind (one failure, or one message at one place) logged"
        " per minute; the rest are counted, and the count is logged with the next one",
    )

    # --- Per user, across every gateway process and host (gateway/budgets.py) ---
    user_max_sockets: int = Field(
        default=100, gt=0, description="a user's open sockets (connect refused quota_exceeded)"
    )
    user_max_channels: int = Field(
        default=2000,
        gt=0,
        description="a user's subscriptions, summed over their sockets (user channels not counted)",
    )
    user_max_streams: int = Field(
        default=50, gt=0, description="a user's open SSE streams (429 quota_exceeded)"
    )
    user_max_replays: int = Field(
        default=20, gt=0, description="a user's replays running at once (sockets and streams)"
    )
    user_replay_bytes_per_minute: int = Field(
        default=64 << 20,
        gt=0,
        description="bytes of history replayed to a user a minute (a minute's worth at once)",
    )
    user_presence_changes_per_second: float = Field(
        default=20.0, gt=0, description="a user's joins of presence channels per second"
    )
    user_presence_change_burst: int = Field(
        default=200, gt=0, description="presence joins a user may make at once"
    )
    user_reads_per_second: float = Field(
        default=50.0, gt=0, description="a user's HTTP reads per second (429 rate_limited)"
    )
    user_messages_per_second: float = Field(
        default=200.0,
        gt=0,
        description="socket messages of one user per second, over all their sockets, across"
        " every gateway process (decided in the process, synced to Postgres every 0.1 s)",
    )
    user_message_burst: int = Field(
        default=400,
        gt=0,
        description="socket messages a user may send at once (per process until the next sync)",
    )
    user_read_burst: int = Field(
        default=300, gt=0, description="HTTP reads a user may make at once"
    )

    # --- Writes (per user, across every gateway process: gateway/budgets.py) ---
    user_writes_per_second: float = Field(
        default=2.0,
        gt=0,
        description="starts, uploads, answers and creations per user per second (429)",
    )
    user_write_burst: int = Field(default=30, gt=0, description="writes a user may make at once")
    max_running_executions: int = Field(
        default=50, gt=0, description="a user's unfinished executions (429 quota_exceeded)"
    )
