"""`run_node`: one attempt of one node, with its `node:*` events.

Every event id is derived from (execution, event type, node, step key), plus the attempt for
per-attempt events (`node:started`, `node:failed`), so a re-run attempt writes nothing twice.
The activity catches its node's failure, emits `node:failed` (with whether Temporal will
retry and when), and re-raises it as an ApplicationError carrying the failure's type.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, JsonValue
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import TemplateError
from activities.execution import ExecutionRef
from activities.failure import Failure
from activities.nodes.base import InputRequest, NodeContext, NodeRegistry, NodeServices
from activities.nodes.registry import NODE_TYPES
from activities.retry import RetrySpec
from activities.templating import LIMIT

if TYPE_CHECKING:
    from datetime import timedelta

    from events import Event
    from events.outbox import Emitter


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


class NodeOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    output: JsonValue
    skip: list[str]
    duration_ms: int


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
        ctx = NodeContext(
            execution=inp.execution,
            node_id=inp.node_id,
            node_type=inp.node_type,
            attempt=info.attempt,
            emitter=self._emitter,
            services=self._services,
            resumed_from=info.heartbeat_details[0] if info.heartbeat_details else None,
            input_request=inp.input_request,
        )
        begun = time.monotonic()
        try:
            rendered = await self._services.renderer.render(inp.config, inp.context)
            config = executor_type.config_model.model_validate(rendered)
        except Exception as exc:
            # Whatever rendering or validation raised, the node reports it (and only
            # transient kinds retry: activities/failure.py).
            await ctx.emit(*self._started(ctx, inp, inp.config, waiting=False))
            reported = Failure.of(exc, inp.timeout_seconds)
            if isinstance(exc, TemplateError) and exc.type == LIMIT:
                reported = dataclasses.replace(
                    reported, message=f"node {inp.node_id!r}: {reported.message}"
                )
            raise await self._failed(ctx, inp, reported) from exc
        waiting = executor_type.waits_for_input
        # `execution:updated` says `waiting`: the state row's status follows in its statement.
        await ctx.emit(*self._started(ctx, inp, rendered, waiting=waiting))
        heartbeats = asyncio.create_task(_heartbeat(ctx, info.heartbeat_timeout))
        try:
            async with asyncio.timeout(inp.timeout_seconds):
                result = await executor_type().execute(config, ctx)
        except asyncio.CancelledError:
            failure = _cancellation(activity.cancellation_details())
            if failure is not None:
                await asyncio.shield(self._failed(ctx, inp, failure))
            raise
        except Exception as exc:
            raise await self._failed(ctx, inp, Failure.of(exc, inp.timeout_seconds)) from exc
        finally:
            heartbeats.cancel()
        duration_ms = int((time.monotonic() - begun) * 1000)
        if not waiting:
            await ctx.emit(
                ctx.event(
                    "node:completed",
                    (),
                    {
                        "nodeId": inp.node_id,
                        "nodeType": inp.node_type,
                        "outputs": result.output,
                        "durationMs": duration_ms,
                    },
                )
            )
        return NodeOutcome(output=result.output, skip=list(result.skip), duration_ms=duration_ms)

    @staticmethod
    def _started(
        ctx: NodeContext, inp: RunNodeInput, inputs: JsonValue, *, waiting: bool
    ) -> tuple[Event, Event]:
        progress = 100 * inp.completed_nodes / inp.total_nodes if inp.total_nodes else 0
        return (
            ctx.event(
                "node:started",
                (ctx.attempt,),
                {
                    "nodeId": inp.node_id,
                    "nodeType": inp.node_type,
                    "attempt": ctx.attempt,
                    "inputs": inputs if isinstance(inputs, dict) else {"value": inputs},
                },
            ),
            # Keyed by node only: a retried attempt does not announce the node again.
            inp.execution.event(
                "execution:updated",
                (inp.node_id,),
                {
                    "status": "waiting" if waiting else "running",
                    "currentNodeId": inp.node_id,
                    "progress": progress,
                    "completedNodes": inp.completed_nodes,
                    "totalNodes": inp.total_nodes,
                },
            ),
        )

    @staticmethod
    async def _failed(ctx: NodeContext, inp: RunNodeInput, failure: Failure) -> ApplicationError:
        """Emit `node:failed` for this attempt; return the error to raise to Temporal."""
        will_retry = failure.retryable and inp.retry.allows_another(ctx.attempt)
        await ctx.emit(
            ctx.event(
                "node:failed",
                (ctx.attempt,),
                {
                    "nodeId": inp.node_id,
                    "nodeType": inp.node_type,
                    "error": {"message": failure.message, "type": failure.type},
                    "attempt": ctx.attempt,
                    "maxAttempts": inp.retry.max_attempts,
                    "willRetry": will_retry,
                    "nextRetryInMs": (
                        int(inp.retry.interval_after(ctx.attempt) * 1000) if will_retry else None
                    ),
                },
            )
        )
        return ApplicationError(
            failure.message, type=failure.type, non_retryable=not failure.retryable
        )


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


async def _heartbeat(ctx: NodeContext, timeout: timedelta | None) -> None:
    """Heartbeat (with the node's checkpoint) often enough for the configured timeout."""
    if not timeout:
        return
    interval = max(timeout.total_seconds() / 3, 0.05)
    with contextlib.suppress(asyncio.CancelledError):
        while True:
            activity.heartbeat(ctx.checkpointed)
            await asyncio.sleep(interval)
