"""The plugin on a real Temporal dev server and Postgres: what a user's own workflow emits,
how its prompt is answered, and what an untracked run does."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from flowmaestro.flows.contract import WORKFLOW_TYPE
from flowmaestro.flows.flow import load_flow
from flowmaestro.flows.messages import (
    PENDING_INPUTS,
    PROVIDE_INPUT,
    Answerer,
    ExecutionInput,
    PendingInput,
    ProvideInput,
)
from flowmaestro.security import Limits
from flowmaestro.settings import Settings
from flowmaestro.temporal import FlowMaestroPlugin, start_options
from tests.flowmaestro.temporal.own import (
    ACTIVITIES,
    OrderWorkflow,
    PackWorkflow,
    QuestionsWorkflow,
    RefusedWorkflow,
    ShipWorkflow,
    SignOffWorkflow,
)
from tests.flowmaestro.temporal.plain import PlainWorkflow, double
from tests.workflows.helpers import EXAMPLES, events_until, worker

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer

WORKFLOWS = [
    OrderWorkflow,
    PlainWorkflow,
    ShipWorkflow,
    PackWorkflow,
    QuestionsWorkflow,
    RefusedWorkflow,
    SignOffWorkflow,
]


@contextlib.asynccontextmanager
async def plugin_worker(
    env: WorkflowEnvironment, dsn: str, task_queue: str, *, on_worker: bool = False
) -> AsyncIterator[Client]:
    """A worker whose client has the default converter, with the plugin on that client (it
    reaches the worker; the client is the caller) or on the worker alone (the caller is the
    environment's client)."""
    # Progress throttled for an hour: an attempt's first call goes out at once and its last
    # before its end, whatever the machine's speed.
    limits = Limits(progress_min_interval_seconds=3600)
    plugin = FlowMaestroPlugin(Settings(database_url=dsn, limits=limits))
    client = Client(
        env.client.service_client,
        namespace=env.client.namespace,
        plugins=[] if on_worker else [plugin],
    )
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[*ACTIVITIES, double],
        plugins=[plugin] if on_worker else [],
    ):
        yield env.client if on_worker else client


async def events_of(pool: asyncpg.Pool, execution_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT envelope FROM event_outbox WHERE envelope->>'executionId' = $1 ORDER BY seq",
        execution_id,
    )
    return [json.loads(r["envelope"]) for r in rows]


async def prompts(handle: WorkflowHandle[Any, Any], count: int = 1) -> list[PendingInput]:
    """The open prompts once there are `count` (the query answers at once; a prompt comes
    after the activities before it, and nothing announces it to a Temporal client)."""
    async with asyncio.timeout(30):
        while True:
            found: list[PendingInput] = await handle.query(
                PENDING_INPUTS, result_type=list[PendingInput]
            )
            if len(found) >= count:
                return found
            await asyncio.sleep(0.05)


async def refused(handle: WorkflowHandle[Any, Any], input_id: str, value: Any) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(PROVIDE_INPUT, ProvideInput(input_id=input_id, value=value))
    cause = err.value.cause
    assert isinstance(cause, ApplicationError)
    return str(cause.type)


@pytest.mark.parametrize("on_worker", [False, True], ids=["on-client", "on-worker"])
async def test_a_run_started_with_its_owner_is_an_execution(
    temporal_env: WorkflowEnvironment, database_dsn: str, pool: asyncpg.Pool, on_worker: bool
) -> None:
    queue = f"own-{uuid.uuid4().hex[:8]}"
    async with plugin_worker(temporal_env, database_dsn, queue, on_worker=on_worker) as client:
        handle = await client.start_workflow(
            OrderWorkflow.run,
            "o-1",
            id=f"order-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
            **start_options("alice"),
        )
        [prompt] = await prompts(handle)
        assert prompt.node_id == "approve" and prompt.answer_schema == {"type": "boolean"}
        # Answered as an ExecutionWorkflow prompt is: the same validation and codes.
        assert await refused(handle, prompt.input_id, "yes") == "invalid_input"
        assert await refused(handle, "in_nope", True) == "not_found"
        await handle.execute_update(
            PROVIDE_INPUT, ProvideInput(input_id=prompt.input_id, value=True)
        )
        assert await refused(handle, prompt.input_id, True) == "already_answered"
        result = await handle.result()
    assert result["approved"] is True
    assert await pool.fetchval("SELECT user_id FROM executions WHERE id = $1", handle.id) == "alice"

    events = await events_of(pool, handle.id)
    assert [(e["type"], e["data"].get("nodeId")) for e in events] == [
        ("execution:started", None),
        ("node:started", "reserve"),
        ("node:progress", "reserve"),
        ("node:progress", "reserve"),
        ("node:completed", "reserve"),
        ("node:started", "summarize"),
        ("agent:streaming_start", "summarize"),
        ("agent:token", None),
        ("agent:tool_call", None),
        ("agent:tool_call", None),
        ("agent:streaming_end", None),
        ("node:completed", "summarize"),
        ("node:started", "approve"),
        ("user_input:required", "approve"),
        ("user_input:received", "approve"),
        ("node:completed", "approve"),
        ("node:started", "charge"),
        ("node:failed", "charge"),
        ("node:started", "charge"),
        ("app:order.shipped", None),
        ("node:completed", "charge"),
        ("execution:completed", None),
    ]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        assert e["userId"] == "alice" and e["workflowId"] == "OrderWorkflow"
        by_type.setdefault(e["type"], []).append(e["data"])
    assert by_type["execution:started"][0]["inputs"] == {"args": "o-1"}
    assert [p["progress"] for p in by_type["node:progress"]] == [50, 100]
    assert by_type["node:started"][0] == {
        "nodeId": "reserve",
        "nodeType": "reserve",
        "attempt": 1,
        "inputs": {"value": ["a", "b"]},
    }
    [failed] = by_type["node:failed"]
    assert failed["attempt"] == 1 and failed["willRetry"] is True
    assert failed["maxAttempts"] == 3 and failed["nextRetryInMs"] == 100
    assert failed["error"] == {"message": "the card processor timed out", "type": "RuntimeError"}
    assert [s["attempt"] for s in by_type["node:started"] if s["nodeId"] == "charge"] == [1, 2]
    assert by_type["agent:streaming_end"][0]["response"] == "Order o-1 is ready."
    assert by_type["agent:token"][0]["token"] == "Order o-1 is ready."
    assert by_type["app:order.shipped"] == [{"carrier": "ups", "parcels": 2}]
    assert by_type["execution:completed"][0]["outputs"]["result"] == result


async def test_a_run_without_its_owner_emits_nothing_and_is_logged_once_per_type(
    temporal_env: WorkflowEnvironment,
    database_dsn: str,
    pool: asyncpg.Pool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    queue = f"own-{uuid.uuid4().hex[:8]}"
    caplog.set_level(logging.INFO, logger="temporalio.workflow")
    async with plugin_worker(temporal_env, database_dsn, queue) as client:
        for _ in range(2):
            assert (
                await client.execute_workflow(
                    PlainWorkflow.run, 3, id=f"plain-{uuid.uuid4().hex[:8]}", task_queue=queue
                )
                == 12
            )
        # A prompt still works; it is only not announced.
        handle = await client.start_workflow(
            OrderWorkflow.run, "o-2", id=f"order-{uuid.uuid4().hex[:8]}", task_queue=queue
        )
        [prompt] = await prompts(handle)
        await handle.execute_update(
            PROVIDE_INPUT, ProvideInput(input_id=prompt.input_id, value=False)
        )
        assert await handle.result() == {"approved": False}
    assert await pool.fetchval("SELECT count(*) FROM event_outbox") == 0
    assert await pool.fetchval("SELECT count(*) FROM executions") == 0
    lines = [r.getMessage() for r in caplog.records if "runs untracked" in r.getMessage()]
    assert len(lines) == 2
    assert "PlainWorkflow" in lines[0] and "OrderWorkflow" in lines[1]


async def test_a_child_workflow_is_a_node_of_its_parent_and_an_execution_of_its_own(
    temporal_env: WorkflowEnvironment, database_dsn: str, pool: asyncpg.Pool
) -> None:
    queue = f"own-{uuid.uuid4().hex[:8]}"
    parent = f"ship-{uuid.uuid4().hex[:8]}"
    async with plugin_worker(temporal_env, database_dsn, queue) as client:
        assert (
            await client.execute_workflow(
                ShipWorkflow.run, parent, id=parent, task_queue=queue, **start_options("alice")
            )
            == 3
        )
    child = f"{parent}-pack"
    assert [(e["type"], e["data"].get("nodeId")) for e in await events_of(pool, parent)] == [
        ("execution:started", None),
        ("node:started", child),
        ("node:completed", child),
        ("execution:completed", None),
    ]
    node = (await events_of(pool, parent))[2]["data"]
    assert node["nodeType"] == "PackWorkflow" and node["outputs"] == 3
    owners = await pool.fetch("SELECT id, user_id, workflow_id FROM executions ORDER BY id")
    assert [tuple(r) for r in owners] == [
        (parent, "alice", "ShipWorkflow"),
        (child, "alice", "PackWorkflow"),
    ]
    assert [e["type"] for e in await events_of(pool, child)] == [
        "execution:started",
        "node:started",
        "node:progress",  # the first of its three calls...
        "node:progress",  # ...and the last: the one between was coalesced
        "node:completed",
        "execution:completed",
    ]


async def test_prompts_open_at_once_are_answered_in_any_order_and_one_times_out(
    temporal_env: WorkflowEnvironment, database_dsn: str, pool: asyncpg.Pool
) -> None:
    queue = f"own-{uuid.uuid4().hex[:8]}"
    async with plugin_worker(temporal_env, database_dsn, queue) as client:
        handle = await client.start_workflow(
            QuestionsWorkflow.run,
            id=f"questions-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
            **start_options("alice"),
        )
        by_node = {p.node_id: p for p in await prompts(handle, 2)}
        assert by_node["second"].choices == ["x", "y"]
        assert await refused(handle, by_node["second"].input_id, "z") == "invalid_input"
        for node, value in (("second", "y"), ("first", "hello")):
            await handle.execute_update(
                PROVIDE_INPUT, ProvideInput(input_id=by_node[node].input_id, value=value)
            )
        assert await handle.result() == ["hello", "y", "input_timeout"]
    events = [(e["type"], e["data"].get("nodeId")) for e in await events_of(pool, handle.id)]
    assert events.count(("user_input:required", "first")) == 1
    assert ("user_input:timeout", "late") in events and ("node:failed", "late") in events
    assert events[-1] == ("execution:completed", None)


async def test_ask_takes_assignees_and_start_options_a_workspace(
    temporal_env: WorkflowEnvironment, database_dsn: str, pool: asyncpg.Pool
) -> None:
    queue = f"own-{uuid.uuid4().hex[:8]}"
    async with plugin_worker(temporal_env, database_dsn, queue) as client:
        handle = await client.start_workflow(
            SignOffWorkflow.run,
            id=f"signoff-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
            **start_options("alice", visibility="workspace", workspace="acme"),
        )
        [prompt] = await prompts(handle)
        assert prompt.assignees is not None and prompt.assignees.groups == ["finance"]
        row = await pool.fetchrow(
            "SELECT workspace_id, visibility FROM executions WHERE id = $1", handle.id
        )
        assert row is not None and tuple(row) == ("acme", "workspace")

        def by(user: str, workspace: str = "acme") -> Answerer:
            return Answerer(user_id=user, workspace=workspace, groups=["finance"])

        assert await refused(handle, prompt.input_id, True) == "forbidden"  # says nobody
        for who in (by("alice"), by("eve", "globex")):
            with pytest.raises(WorkflowUpdateFailedError) as err:
                await handle.execute_update(
                    PROVIDE_INPUT, ProvideInput(input_id=prompt.input_id, value=True, answerer=who)
                )
            assert isinstance(err.value.cause, ApplicationError)
            assert err.value.cause.type == "forbidden"
        await handle.execute_update(
            PROVIDE_INPUT, ProvideInput(input_id=prompt.input_id, value=True, answerer=by("carol"))
        )
        assert await handle.result() is True
    [received] = [e for e in await events_of(pool, handle.id) if e["type"] == "user_input:received"]
    assert received["data"]["answeredBy"] == "carol" and received["data"]["client"] == "temporal"


@pytest.mark.parametrize(
    "options",
    [
        {"visibility": "everyone"},
        {"workspace": "acme:finance"},
        {"workspace": ""},
        {"workspace": "a" * 201},
    ],
)
def test_start_options_refuses_a_bad_workspace_or_visibility(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        start_options("alice", **options)


async def test_a_failed_run_says_which_node_failed_it(
    temporal_env: WorkflowEnvironment, database_dsn: str, pool: asyncpg.Pool
) -> None:
    queue = f"own-{uuid.uuid4().hex[:8]}"
    async with plugin_worker(temporal_env, database_dsn, queue) as client:
        handle = await client.start_workflow(
            RefusedWorkflow.run,
            "o-9",
            id=f"refused-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
            **start_options("alice"),
        )
        with pytest.raises(WorkflowFailureError):
            await handle.result()
    events = await events_of(pool, handle.id)
    assert [e["type"] for e in events] == [
        "execution:started",
        "node:started",
        "node:failed",
        "execution:failed",
    ]
    assert events[2]["data"]["willRetry"] is False and events[2]["data"]["nextRetryInMs"] is None
    assert events[3]["data"] == {
        "error": {"message": "o-9 is out of stock", "type": "out_of_stock"},
        "failedNodeId": "stock",
    }
    state = await pool.fetchval("SELECT status FROM executions WHERE id = $1", handle.id)
    assert state == "failed"


async def test_flowmaestros_own_workflows_are_left_to_report_themselves(
    temporal_env: WorkflowEnvironment, database_dsn: str, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    """A worker that runs ExecutionWorkflow beside the plugin: a flow started with the owner's
    attribute is reported once, by the workflow itself."""
    client = Client(
        temporal_env.client.service_client,
        namespace=temporal_env.client.namespace,
        data_converter=temporal_env.client.data_converter,
        plugins=[FlowMaestroPlugin(Settings(database_url=database_dsn))],
    )
    flow = load_flow(EXAMPLES / "parallel.yaml")
    execution_id = f"ex_{uuid.uuid4().hex}"
    async with worker(client, pool) as queue:
        await client.start_workflow(
            WORKFLOW_TYPE,
            ExecutionInput(
                user_id="alice",
                flow=flow.model_dump(mode="json", exclude_unset=True),
                inputs={"topic": "plugins"},
            ),
            id=execution_id,
            task_queue=queue,
            **start_options("alice"),
        )
        events = await events_until(pool, execution_id)
    assert events[-1].envelope["type"] == "execution:completed"
    assert [e.envelope["type"] for e in events].count("execution:started") == 1
    assert await pool.fetchval(
        "SELECT workflow_id FROM executions WHERE id = $1", execution_id
    ) == (flow.name)
