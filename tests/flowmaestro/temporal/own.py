"""A user's own workflow and activities, as the plugin's tests run them (no FlowMaestro
code in them but the public `flowmaestro.temporal` calls)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from flowmaestro.temporal import (
    AskTimeoutError,
    agent_stream,
    ask,
    emit_event,
    progress,
    register_event,
)


class Shipped(BaseModel):
    carrier: str
    parcels: int


register_event("order.shipped", Shipped)


@activity.defn
async def reserve(items: list[str]) -> int:
    for i, item in enumerate(items):
        await progress(100 * (i + 1) / len(items), f"reserved {item}")
    return len(items)


@activity.defn
async def summarize(order_id: str) -> str:
    async with agent_stream("writer", model="test-model") as stream:
        for word in ("Order", " ", order_id, " ", "is", " ", "ready."):
            await stream.token(word)
        await stream.tool_call("lookup", {"order": order_id})
        await stream.tool_call("lookup", {"order": order_id}, status="completed", result=1)
    return stream.response


@activity.defn
async def charge(order_id: str) -> str:
    if activity.info().attempt == 1:
        raise RuntimeError("the card processor timed out")
    await emit_event("order.shipped", Shipped(carrier="ups", parcels=2))
    return f"charged {order_id}"


_FAST = RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=3)


@workflow.defn
class OrderWorkflow:
    @workflow.run
    async def run(self, order_id: str) -> dict[str, object]:
        count = await workflow.execute_activity(
            reserve, ["a", "b"], start_to_close_timeout=timedelta(seconds=30), activity_id="reserve"
        )
        text = await workflow.execute_activity(
            summarize,
            order_id,
            start_to_close_timeout=timedelta(seconds=30),
            activity_id="summarize",
        )
        approved = await ask(f"Approve {order_id}?", input_type="boolean", node_id="approve")
        if not approved:
            return {"approved": False}
        charged = await workflow.execute_activity(
            charge,
            order_id,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=_FAST,
            activity_id="charge",
        )
        return {"approved": True, "items": count, "summary": text, "charged": charged}


@workflow.defn
class PackWorkflow:
    """A child of `ShipWorkflow`."""

    @workflow.run
    async def run(self, items: list[str]) -> int:
        return await workflow.execute_activity(
            reserve, items, start_to_close_timeout=timedelta(seconds=30), activity_id="pack"
        )


@workflow.defn
class ShipWorkflow:
    @workflow.run
    async def run(self, order_id: str) -> int:
        return await workflow.execute_child_workflow(
            PackWorkflow.run, ["x", "y", "z"], id=f"{order_id}-pack"
        )


@workflow.defn
class QuestionsWorkflow:
    """Two prompts open at once, then one that times out."""

    @workflow.run
    async def run(self) -> list[object]:
        first, second = await asyncio.gather(
            ask("First?", node_id="first"),
            ask("Pick one", input_type="choice", choices=["x", "y"], node_id="second"),
        )
        try:
            await ask("Too late?", timeout=timedelta(seconds=1), node_id="late")
        except AskTimeoutError as timed_out:
            return [first, second, timed_out.type]
        return [first, second, "answered"]


@workflow.defn
class SignOffWorkflow:
    """A prompt for finance that its requester may not answer (docs/teams.md)."""

    @workflow.run
    async def run(self) -> object:
        return await ask(
            "Sign off?",
            input_type="boolean",
            assignees={"groups": ["finance"]},
            exclude_requester=True,
            node_id="signoff",
        )


@activity.defn
async def refuse(order_id: str) -> None:
    raise ApplicationError(f"{order_id} is out of stock", type="out_of_stock", non_retryable=True)


@workflow.defn
class RefusedWorkflow:
    @workflow.run
    async def run(self, order_id: str) -> None:
        await workflow.execute_activity(
            refuse, order_id, start_to_close_timeout=timedelta(seconds=30), activity_id="stock"
        )


ACTIVITIES: list[Callable[..., Any]] = [reserve, summarize, charge, refuse]
