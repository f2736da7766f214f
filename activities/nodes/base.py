"""The node-executor interface and the registry of node types.

A node type is a `NodeExecutor` subclass: a pydantic `config_model` (what a flow file may put
under the node's `config`) and an async `execute(config, ctx)` returning a `NodeResult`.
Executors are stateless: whatever they need (an HTTP client, the database pool, model
providers) comes in `ctx.services`; whatever they emit goes through `ctx` so event ids stay
deterministic. The `run_node` activity (activities/node_activity.py) does everything around
`execute`: renders templates in the config, validates it, emits `node:started`,
`node:completed`/`node:failed`, enforces the node's timeout and heartbeats.

Failures: raise `activities.errors.NodeError(message, type=..., retryable=...)`. Of other
exceptions only transient kinds retry (activities/failure.py); the rest fail the node.

Templates: every string in a node's config may be a Jinja template over `inputs` (the
execution's inputs) and `nodes` (earlier nodes' outputs, `nodes.<id>`). A string that is one
`{{ expression }}` renders to the expression's native JSON value. Fields listed outside
`templated_fields` must be literal (the workflow reads them before anything runs).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict, JsonValue

from flowmaestro.activities.write_retry import WriteRetry
from flowmaestro.events.catalogue.node import NodeProgressData
from flowmaestro.flows.nodes.base import NodeType, NodeTypes
from flowmaestro.security import Limits

if TYPE_CHECKING:
    import uuid

    import asyncpg
    import httpx

    from flowmaestro.activities.agent.services import AgentServices
    from flowmaestro.activities.execution import ExecutionRef
    from flowmaestro.activities.render_pool import Renderer
    from flowmaestro.events import Event, EventData
    from flowmaestro.events.outbox import Emitter
    from flowmaestro.security.egress import EgressGuard

C = TypeVar("C", bound=BaseModel)


@dataclasses.dataclass(frozen=True, slots=True)
class NodeResult:
    """What a node produced. `skip` names nodes the workflow must not run (branching)."""

    output: JsonValue
    skip: tuple[str, ...] = ()


class InputRequest(BaseModel):
    """The workflow's identity for a `user_input` node's prompt, fixed before the node runs."""

    model_config = ConfigDict(frozen=True)

    input_id: str
    expires_at: datetime | None


@dataclasses.dataclass(slots=True)
class NodeServices:
    """Shared clients executors may use; owned (opened and closed) by the worker entry."""

    http: httpx.AsyncClient
    """For what the operator configured (model endpoints); never for a flow's URL."""
    egress: EgressGuard
    """The only way to a URL a flow controls (security/egress.py)."""
    renderer: Renderer
    """Renders node configs' templates off the event loop, with a hard timeout."""
    limits: Limits = dataclasses.field(default_factory=Limits)
    pool: asyncpg.Pool | None = None
    agents: AgentServices | None = None
    """Model endpoints and embedders; None: the offline model and embedder only."""
    writes: WriteRetry = dataclasses.field(default_factory=WriteRetry)
    """How writes outlast a database outage; one per process (it tracks Postgres's state)."""


@dataclasses.dataclass(slots=True)
class NodeContext:
    """One attempt of one node: identity, emission, services, and resumable state."""

    execution: ExecutionRef
    node_id: str
    node_type: str
    attempt: int
    emitter: Emitter
    services: NodeServices
    resumed_from: JsonValue = None
    """The last `checkpoint()` of a previous attempt of this node (None on a fresh start)."""
    input_request: InputRequest | None = None
    checkpointed: JsonValue = None

    def checkpoint(self, state: JsonValue) -> None:
        """Remember `state`; it is sent with the next heartbeat and resumes a retried attempt."""
        self.checkpointed = state

    def event(
        self, key: tuple[str | int, ...], data: EventData, *, agent_id: str | None = None
    ) -> Event:
        """An event of this node whose id depends on (execution, type, node, key) only."""
        return self.execution.event((self.node_id, *key), data, agent_id=agent_id)

    def event_id(self, type: str, key: tuple[str | int, ...]) -> uuid.UUID:
        """The id `event(type, key, ...)` has, without building the event."""
        return self.execution.event_id(type, (self.node_id, *key))

    async def emit(self, *events: Event) -> None:
        await self.emitter.emit(events)

    async def progress(self, index: int, progress: float, step: str) -> None:
        """Emit `node:progress`; `index` numbers this node's reports (a retry re-uses them)."""
        data = NodeProgressData(node_id=self.node_id, progress=progress, step=step)
        await self.emit(self.event((index,), data))


class NodeExecutor(NodeType[C], ABC):
    """One node type's work. Subclasses extend the type's static half (flows/nodes/) and
    implement `execute`: `class HttpExecutor(Http, NodeExecutor[HttpConfig])`."""

    @abstractmethod
    async def execute(self, config: C, ctx: NodeContext) -> NodeResult:
        """Run one attempt. Raise NodeError for failures the flow author should see."""


NodeRegistry = NodeTypes[NodeExecutor[Any]]
