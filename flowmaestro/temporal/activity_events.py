"""The activity interceptor: every attempt of a tracked run's activities is a node.

`node:started` (per attempt), then `node:completed` or `node:failed` (with the attempt,
whether Temporal will retry and when). The node id is the activity id, the node type the
activity type. Ids derive from (execution, run, node, attempt), so a re-delivered attempt
writes nothing twice. An activity with no `HEADER` (an untracked run, or the plugin's own
emissions) runs untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput

from flowmaestro.activities.execution import ExecutionRef
from flowmaestro.activities.failure import Failure
from flowmaestro.events.catalogue.node import NodeCompletedData, NodeStartedData
from flowmaestro.flows.retry import RetrySpec
from flowmaestro.temporal.ownership import HEADER, RunIdentity
from flowmaestro.temporal.scope import AttemptScope, enter, leave
from flowmaestro.temporal.values import as_object, jsonable

if TYPE_CHECKING:
    from collections.abc import Callable

    from temporalio.common import RetryPolicy

    from flowmaestro.events import Event
    from flowmaestro.events.outbox import Emitter
    from flowmaestro.security import Limits

_MAX_MESSAGE = 2000


class ActivityEvents(ActivityInboundInterceptor):
    def __init__(
        self,
        next: ActivityInboundInterceptor,
        emitter: Callable[[], Emitter],
        limits: Limits,
    ) -> None:
        super().__init__(next)
        self._emitter = emitter
        self._limits = limits

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        header = input.headers.get(HEADER)
        identity = None if header is None else RunIdentity.of(header)
        if identity is None:
            return await self.next.execute_activity(input)
        info = activity.info()
        scope = AttemptScope(
            execution=ExecutionRef(
                execution_id=identity.execution_id,
                user_id=identity.user_id,
                workflow_id=identity.workflow_type,
            ),
            run_id=identity.run_id,
            node_id=info.activity_id,
            node_type=info.activity_type,
            attempt=info.attempt,
            emitter=self._emitter(),
            limits=self._limits,
        )
        limit = self._limits.max_event_data_bytes
        args = input.args[0] if len(input.args) == 1 else list(input.args)
        await scope.emitter.emit(
            [
                scope.event(
                    (scope.attempt,),
                    NodeStartedData(
                        node_id=scope.node_id,
                        node_type=scope.node_type,
                        attempt=scope.attempt,
                        inputs=as_object(jsonable(args, limit)),
                    ),
                )
            ]
        )
        began = time.monotonic()
        token = enter(scope)
        try:
            result = await self.next.execute_activity(input)
        except BaseException as exc:
            # Its last progress goes out before its end; failing that, the end still does.
            with contextlib.suppress(Exception):
                await asyncio.shield(scope.flush())
            await asyncio.shield(scope.emitter.emit([_failed(scope, info.retry_policy, exc)]))
            raise
        finally:
            leave(token)
        await scope.flush()
        await scope.emitter.emit(
            [
                scope.event(
                    (),
                    NodeCompletedData(
                        node_id=scope.node_id,
                        node_type=scope.node_type,
                        outputs=jsonable(result, limit),
                        duration_ms=int((time.monotonic() - began) * 1000),
                    ),
                )
            ]
        )
        return result


def _failed(scope: AttemptScope, policy: RetryPolicy | None, exc: BaseException) -> Event:
    """This attempt's `node:failed`, with what Temporal will do next as its policy says."""
    retry = _spec(policy)
    failure, delay = _failure(exc, policy)
    will_retry = failure.retryable and retry.allows_another(scope.attempt)
    if will_retry and delay is None:
        delay = retry.interval_after(scope.attempt)
    return scope.event(
        (scope.attempt,),
        failure.node_failed(
            scope.node_id,
            scope.node_type,
            attempt=scope.attempt,
            max_attempts=retry.max_attempts,
            retry_in_ms=int(delay * 1000) if will_retry and delay is not None else None,
        ),
    )


def _spec(policy: RetryPolicy | None) -> RetrySpec:
    """Temporal's policy in RetrySpec terms (Temporal's defaults when there is none)."""
    if policy is None:
        return RetrySpec(max_attempts=0)
    return RetrySpec(
        max_attempts=policy.maximum_attempts,
        initial_interval_seconds=policy.initial_interval.total_seconds(),
        backoff_coefficient=policy.backoff_coefficient,
        maximum_interval_seconds=(
            policy.maximum_interval.total_seconds() if policy.maximum_interval else None
        ),
    )


def _failure(exc: BaseException, policy: RetryPolicy | None) -> tuple[Failure, float | None]:
    """The failure as Temporal will judge the exception, and its explicit retry delay."""
    if isinstance(exc, asyncio.CancelledError):
        details = activity.cancellation_details()
        if details is not None and details.worker_shutdown:
            return Failure("the worker shut down", "worker_shutdown", True), None
        if details is not None and details.timed_out:
            return Failure("the attempt timed out", "timeout", True), None
        return Failure("the activity was cancelled", "cancelled", False), None
    if isinstance(exc, ApplicationError):
        type = exc.type or "ApplicationError"
        retryable = not exc.non_retryable and type not in _non_retryable(policy)
        delay = exc.next_retry_delay.total_seconds() if exc.next_retry_delay else None
        return Failure(exc.message[:_MAX_MESSAGE], type, retryable), delay
    type = exc.__class__.__name__
    message = str(exc)[:_MAX_MESSAGE] or type
    return Failure(message, type, type not in _non_retryable(policy)), None


def _non_retryable(policy: RetryPolicy | None) -> tuple[str, ...]:
    return tuple(policy.non_retryable_error_types or ()) if policy else ()
