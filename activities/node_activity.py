"""`run_node`: one attempt of one node, with its `node:*` events.

Every event id is derived from (execution, event type, node, step key), plus the attempt for
per-attempt events (`node:started`, `node:failed`), so a re-run attempt writes nothing twice.
The activity catches its node's failure, emits `node:failed` (with whether Temporal will
retry and when), and re-raises it as an ApplicationError carrying the failure's type.
Its writes outlast a Postgres outage (activities/write_retry.py) while its heartbeats go on,
so an outage costs the attempt time, never the attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict, JsonValue
from temporalio import activity
from temporalio.exceptions import ApplicationError

from flowmaestro.activities.execution import ExecutionRef
from flowmaestro.activities.failure import Failure
from flowmaestro.activities.heartbeat import heartbeating
from flowmaestro.activities.nodes.base import (
    InputRequest,
    NodeContext,
    NodeExecutor,
    NodeRegistry,
    NodeServices,
)
from flowmaestro.activities.nodes.registry import NODE_TYPES
from flowmaestro.activities.write_retry import pausing
from flowmaestro.events.catalogue.execution import ExecutionStatus, ExecutionUpdatedData
from flowmaestro.events.catalogue.node import NodeCompletedData, NodeStartedData
from flowmaestro.flows.errors import TemplateError
from flowmaestro.flows.retry import RetrySpec
from flowmaestro.flows.templates import LIMIT
from flowmaestro.log_context import log_fields

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from flowmaestro.events import Event
    from flowmaestro.events.outbox import Emitter

T = TypeVar("T")

LOST_ATTEMPTS_LOOKBACK = 10
"""How many earlier attempts an attempt checks for a missing end: each ended the ones before
it, so only a run of attempts lost in a row needs more than one, and with unlimited retries
checking every earlier attempt would grow without bound."""


class RunNodeInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    execution: ExecutionRef
    node_id: str
    node_type: str
    config: dict[str, JsonValue]
    context: dict[str, JsonValue]
    """What templates see: `inputs` and the referenced earlier outputs under `nodes`."""
    retry: RetrySpec
    timeout_seconds: float
    completed_nodes: int
    total_nodes: int
    input_request: InputRequest | None = None

    def execution_updated(self, status: ExecutionStatus, completed: int) -> ExecutionUpdatedData:
        """The execution at this node, with `completed` of the flow's nodes done."""
        return ExecutionUpdatedData(
            status=status,
            current_node_id=self.node_id,
            progress=100 * completed / self.total_nodes if self.total_nodes else 0,
            completed_nodes=completed,
            total_nodes=self.total_nodes,
        )


class NodeOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    output: JsonValue
    skip: list[str]
    duration_ms: int


@dataclasses.dataclass(frozen=True, slots=True)
class Earlier:
    """What earlier attempts of a node left for this one."""

    ends: tuple[Event, ...] = ()
    """`node:failed` of attempts that started and never ended, to write with this start."""
    completed: bool = False
    """An earlier attempt wrote `node:completed`; Temporal never heard of it."""


class NodeActivities:
    """Holds what node executors need; `run_node` is registered with the worker."""

    def __init__(
        self, emitter: Emitter, services: NodeServices, registry: NodeRegistry = NODE_TYPES
    ) -> None:
        self._emitter = emitter
        self._services = services
        self._registry = registry

    @activity.defn(name="run_node")
    async def run_node(self, inp: RunNodeInput) -> NodeOutcome:
        info = activity.info()
        executor_type = self._registry[inp.node_type]
        resumed = info.heartbeat_details[0] if info.heartbeat_details else None
        ctx = NodeContext(
            execution=inp.execution,
            node_id=inp.node_id,
            node_type=inp.node_type,
            attempt=info.attempt,
            emitter=self._emitter,
            services=self._services,
            resumed_from=resumed,
            input_request=inp.input_request,
            checkpointed=resumed,
        )
        # Heartbeats cover the writes too: an attempt waiting out an outage is alive.
        with log_fields(execution_id=inp.execution.execution_id, node_id=inp.node_id):
            async with heartbeating(lambda: (ctx.checkpointed,)):
                earlier = await _whole(self._earlier_attempts(ctx, inp))
                return await self._attempt(executor_type, ctx, inp, earlier)

    async def _earlier_attempts(self, ctx: NodeContext, inp: RunNodeInput) -> Earlier:
        """What earlier attempts of this node left: ends they owe, or a completion.

        An attempt whose worker died (or lost Temporal) cannot report its end; Temporal
        retries it after its heartbeat timeout, and this attempt writes its `node:failed`
        with its own `node:started`, in one write. The ids are the lost attempt's own: if it
        did write its end after all, nothing is written twice.
        """
        pool = self._services.pool
        earlier = range(max(1, ctx.attempt - LOST_ATTEMPTS_LOOKBACK), ctx.attempt)
        if pool is None or not earlier:
            return Earlier()
        completed = ctx.event_id("node:completed", ())
        ends = {
            k: (ctx.event_id("node:started", (k,)), ctx.event_id("node:failed", (k,)))
            for k in earlier
        }
        ids = [completed, *(i for pair in ends.values() for i in pair)]
        rows = await self._services.writes.run(
            lambda: pool.fetch(
                "SELECT event_id FROM event_outbox WHERE event_id = ANY($1::uuid[])", ids
            )
        )
        found = {r["event_id"] for r in rows}
        if completed in found:
            return Earlier(completed=True)
        lost = [
            k for k, (started, failed) in ends.items() if started in found and failed not in found
        ]
        return Earlier(
            ends=tuple(
                self._failed_event(
                    ctx,
                    inp,
                    k,
                    Failure(
                        f"attempt {k} stopped reporting: its worker died or lost its connection",
                        "attempt_lost",
                        True,
                    ),
                    will_retry=True,
                )
                for k in lost
            )
        )

    async def _attempt(
        self,
        executor_type: type[NodeExecutor[Any]],
        ctx: NodeContext,
        inp: RunNodeInput,
        earlier: Earlier,
    ) -> NodeOutcome:
        begun = time.monotonic()

        def started(inputs: JsonValue, *, waiting: bool) -> tuple[Event, ...]:
            # A node already completed (its completion lost on the way to Temporal) is run
            # again for its outcome, without announcing a start its deduplicated end would
            # never close.
            if earlier.completed:
                return ()
            return (*earlier.ends, *self._started(ctx, inp, inputs, waiting=waiting))

        try:
            rendered = await self._services.renderer.render(inp.config, inp.context)
            config = executor_type.config_model.model_validate(rendered)
        except Exception as exc:
            # Whatever rendering or validation raised, the node reports it (and only
            # transient kinds retry: activities/failure.py).
            await _whole(ctx.emit(*started(inp.config, waiting=False)))
            reported = Failure.of(exc, inp.timeout_seconds)
            if isinstance(exc, TemplateError) and exc.type == LIMIT:
                reported = dataclasses.replace(
                    reported, message=f"node {inp.node_id!r}: {reported.message}"
                )
            raise await _whole(self._failed(ctx, inp, reported)) from exc
        waiting = executor_type.waits_for_input
        try:
            # `execution:updated` says `waiting`: the state row's status follows in its
            # statement.
            await _whole(ctx.emit(*started(rendered, waiting=waiting)))
            async with asyncio.timeout(inp.timeout_seconds) as limit:
                # Time spent waiting for the database is not the node's: its timeout stops.
                with pausing(lambda waited: _extend(limit, waited)):
                    result = await executor_type().execute(config, ctx)
        except asyncio.CancelledError:
            failure = _cancellation(activity.cancellation_details())
            if failure is not None:
                await asyncio.shield(self._failed(ctx, inp, failure))
            raise
        except Exception as exc:
            raise await _whole(
                self._failed(ctx, inp, Failure.of(exc, inp.timeout_seconds))
            ) from exc
        duration_ms = int((time.monotonic() - begun) * 1000)
        if not waiting:
            completed = NodeCompletedData(
                node_id=inp.node_id,
                node_type=inp.node_type,
                outputs=result.output,
                duration_ms=duration_ms,
            )
            await _whole(ctx.emit(ctx.event((), completed)))
        return NodeOutcome(output=result.output, skip=list(result.skip), duration_ms=duration_ms)

    @staticmethod
    def _started(
        ctx: NodeContext, inp: RunNodeInput, inputs: JsonValue, *, waiting: bool
    ) -> tuple[Event, Event]:
        started = NodeStartedData(
            node_id=inp.node_id,
            node_type=inp.node_type,
            attempt=ctx.attempt,
            inputs=inputs if isinstance(inputs, dict) else {"value": inputs},
        )
        updated = inp.execution_updated("waiting" if waiting else "running", inp.completed_nodes)
        # Keyed by node only: a retried attempt does not announce the node again.
        return ctx.event((ctx.attempt,), started), inp.execution.event((inp.node_id,), updated)

    @staticmethod
    async def _failed(ctx: NodeContext, inp: RunNodeInput, failure: Failure) -> ApplicationError:
        """Emit `node:failed` for this attempt; return the error to raise to Temporal."""
        will_retry = failure.retryable and inp.retry.allows_another(ctx.attempt)
        await ctx.emit(
            NodeActivities._failed_event(ctx, inp, ctx.attempt, failure, will_retry=will_retry)
        )
        return ApplicationError(
            failure.message, type=failure.type, non_retryable=not failure.retryable
        )

    @staticmethod
    def _failed_event(
        ctx: NodeContext, inp: RunNodeInput, attempt: int, failure: Failure, *, will_retry: bool
    ) -> Event:
        failed = failure.node_failed(
            inp.node_id,
            inp.node_type,
            attempt=attempt,
            max_attempts=inp.retry.max_attempts,
            retry_in_ms=int(inp.retry.interval_after(attempt) * 1000) if will_retry else None,
        )
        return ctx.event((attempt,), failed)


def _cancellation(details: activity.ActivityCancellationDetails | None) -> Failure | None:
    """How a cancelled attempt is reported; None when this attempt's fate is not ours to say."""
    if details is None:
        return None
    if details.cancel_requested:
        return Failure("the execution was cancelled", "cancelled", False)
    if details.worker_shutdown:
        return Failure("the worker shut down", "worker_shutdown", True)
    if details.timed_out:
        return Failure("the attempt timed out", "timeout", True)
    return None


async def _whole(write: Awaitable[T]) -> T:
    """Finish `write` even if the attempt is cancelled meanwhile, then let the cancel through:
    an event is never half-written, and a cancelled attempt's end comes after its start."""
    task = asyncio.ensure_future(write)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise


def _extend(limit: asyncio.Timeout, waited: float) -> None:
    when = limit.when()
    if when is not None and not limit.expired():
        limit.reschedule(when + waited)
