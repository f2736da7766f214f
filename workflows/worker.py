"""The worker: every workflow and activity of the project on one task queue.

`flowmaestro worker` owns the lifetimes (pool, HTTP client, Temporal client); this module
only assembles the Temporal `Worker` from them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from flowmaestro.activities.agent.services import AgentServices
from flowmaestro.activities.emit import EmitActivities
from flowmaestro.activities.kb.activities import KbActivities
from flowmaestro.activities.node_activity import NodeActivities
from flowmaestro.activities.registration import RegistrationActivities
from flowmaestro.activities.write_retry import RetryingEmitter
from flowmaestro.workflows.execution import ExecutionWorkflow
from flowmaestro.workflows.kb_ingest import KnowledgeBaseIngestWorkflow

if TYPE_CHECKING:
    import asyncpg
    from temporalio.client import Client

    from flowmaestro.activities.nodes.base import NodeServices
    from flowmaestro.events.outbox import Emitter

WORKFLOWS: tuple[type, ...] = (ExecutionWorkflow, KnowledgeBaseIngestWorkflow)

# Libraries the workflow calls deterministically (checking a flow's templates and answers'
# schemas) but which import lazily and use locks internally: load them outside the sandbox.
# And the flow model itself: pure, and one class per model, so that a flow the workflow
# validates is made of the same classes as the activities' inputs that carry it.
_PASSTHROUGH = (
    "jinja2",
    "markupsafe",
    "jsonschema",
    "jsonschema_specifications",
    "referencing",
    "flowmaestro.flows",
)


def sandbox_runner() -> SandboxedWorkflowRunner:
    """The workflow sandbox every worker and replayer uses."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*_PASSTHROUGH)
    )


def activities_of(
    emitter: Emitter,
    pool: asyncpg.Pool,
    services: NodeServices,
    client: Client,
) -> list[Any]:
    """Every activity, bound to its dependencies (`client`: to see the namespace's search
    attributes); each writes through `services.writes`, so every write of every activity
    outlasts a database outage the same way."""
    emitter = RetryingEmitter(emitter, services.writes)
    nodes = NodeActivities(emitter, services)
    execution = EmitActivities(emitter)
    registration = RegistrationActivities(pool, client, services.limits, services.writes)
    agents = services.agents or AgentServices.offline(services.http)
    kb = KbActivities(pool, emitter, agents.embedders, services.writes)
    return [
        registration.register_execution,
        nodes.run_node,
        execution.emit_events,
        kb.extract,
        kb.chunk,
        kb.embed,
        kb.complete,
        kb.fail,
    ]


def build_worker(
    client: Client,
    *,
    task_queue: str,
    emitter: Emitter,
    pool: asyncpg.Pool,
    services: NodeServices,
    max_concurrent_activities: int = 100,
) -> Worker:
    """A worker for `task_queue`; the client must use the pydantic data converter."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=activities_of(emitter, pool, services, client),
        workflow_runner=sandbox_runner(),
        max_concurrent_activities=max_concurrent_activities,
        # A live worker takes its sticky tasks within milliseconds; after 3 s (not the default
        # 10 s) a dead worker's executions move on to another worker.
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=3),
    )
