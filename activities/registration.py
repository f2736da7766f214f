"""`register_execution`: an execution records its own owner, however it was started.

It is `ExecutionWorkflow`'s first activity, before `execution:started`, so a run started by
any Temporal client (the `temporal` CLI, a Python or TypeScript SDK) is owned, listed and
answerable like one started through the gateway. It also reads the flow and inputs the
client sent as raw JSON, within the configured limits: a malformed start is registered and
then fails with `execution:failed` naming the problem, instead of failing workflow tasks.
Idempotent by the execution id and the Temporal run: a retry or a second caller (the
`start_execution` helper registers too, so its caller can subscribe at once) changes nothing.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from pydantic import JsonValue
from temporalio import activity
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.service import RPCError

from flowmaestro.activities.heartbeat import heartbeating
from flowmaestro.flows.errors import FlowError, FlowsError
from flowmaestro.flows.flow import Flow, load_flow
from flowmaestro.flows.registration import (
    UNNAMED,
    Problem,
    Registered,
    RegisterInput,
    Registration,
    register,
)
from flowmaestro.flows.search_attributes import SEARCH_ATTRIBUTES
from flowmaestro.security import unstorable_path

if TYPE_CHECKING:
    import asyncpg
    from temporalio.client import Client

    from flowmaestro.activities.write_retry import WriteRetry
    from flowmaestro.security import Limits


class RegistrationActivities:
    def __init__(
        self, pool: asyncpg.Pool, client: Client, limits: Limits, writes: WriteRetry
    ) -> None:
        self._pool = pool
        self._client = client
        self._limits = limits
        self._writes = writes
        self._attributes_known = False

    @activity.defn(name="register_execution")
    async def register_execution(self, inp: RegisterInput) -> Registered:
        # Checking a flow is CPU work on untrusted input: bounded by the limits (linear checks
        # before anything is built, workflows/flow_limits.py), and off the event loop.
        where = unstorable_path({"flow": inp.flow, "inputs": inp.inputs})
        if where is not None:
            # Nothing of it is stored (the insert would fail, and be retried, forever); the
            # message names where, escaped, for it goes into `execution:failed`.
            message = f"{where!a}: a NUL character or a lone surrogate cannot be stored"
            flow: Flow | None = None
            inputs: dict[str, JsonValue] = {}
            problem: Problem | None = Problem(type="bad_request", message=message)
            raw_inputs: dict[str, JsonValue] = {}
            flow_name = UNNAMED
        else:
            flow, inputs, problem = await asyncio.to_thread(self._check, inp.flow, inp.inputs)
            raw_inputs = inp.inputs if isinstance(inp.inputs, dict) else {}
            flow_name = flow.name if flow is not None else _name_of(inp.flow)
        registration = Registration(
            execution_id=inp.execution_id,
            run_id=inp.run_id,
            user_id=inp.user_id,
            flow_name=flow_name,
            inputs=inputs if problem is None else raw_inputs,
            graph=flow.graph() if flow is not None else None,
            workspace=inp.workspace,
            visibility=inp.visibility or (flow.visibility if flow else None) or "private",
        )
        # Like every activity's write, it waits out a Postgres outage (heartbeating).
        async with heartbeating():
            registered = await self._writes.run(lambda: register(self._pool, registration))
        if not registered:
            return Registered(refused=True, flow_name=flow_name)
        return Registered(
            flow_name=flow_name,
            flow=flow if problem is None else None,
            inputs=inputs if problem is None else raw_inputs,
            problem=problem,
            search_attributes=await self._search_attributes_known(),
        )

    def _check(
        self, raw_flow: JsonValue, raw_inputs: JsonValue
    ) -> tuple[Flow | None, dict[str, JsonValue], Problem | None]:
        if not isinstance(raw_flow, dict):
            return None, {}, Problem(type="invalid_flow", message="the flow is not an object")
        try:
            flow = load_flow(raw_flow, self._limits)
        except FlowError as exc:
            # Over a limit: the same code the gateway answers a too large flow with.
            kind = "too_large" if exc.limit is not None else "invalid_flow"
            return None, {}, Problem(type=kind, message=f"invalid flow: {exc}")
        except Exception as exc:
            return None, {}, Problem(type="invalid_flow", message=f"invalid flow: {exc}")
        if not isinstance(raw_inputs, dict):
            return flow, {}, Problem(type="invalid_inputs", message="the inputs are not an object")
        try:
            return flow, flow.resolve_inputs(raw_inputs), None
        except FlowsError as exc:
            return flow, {}, Problem(type="invalid_inputs", message=f"invalid inputs: {exc}")

    async def _search_attributes_known(self) -> bool:
        """Whether the namespace has FlowMaestro's search attributes; upserting an unknown one
        would fail every workflow task. A yes is kept, a no is asked again next time."""
        if self._attributes_known:
            return True
        try:
            listed = await self._client.operator_service.list_search_attributes(
                ListSearchAttributesRequest(namespace=self._client.namespace)
            )
        except RPCError as exc:
            activity.logger.warning("cannot list search attributes: %s", exc)
            return False
        self._attributes_known = all(
            key.name in listed.custom_attributes for key in SEARCH_ATTRIBUTES
        )
        return self._attributes_known


def _name_of(raw_flow: Any) -> str:
    name = raw_flow.get("name") if isinstance(raw_flow, dict) else None
    return name[:200] if isinstance(name, str) and name else UNNAMED
