"""Human input through the `provide_input` Update: accepted, each rejection with its own
error type, the `pending_inputs` query, timeouts with each `on_timeout`, and cancellation."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from flowmaestro.flows.flow import load_flow
from flowmaestro.flows.messages import (
    PENDING_INPUTS,
    PROVIDE_INPUT,
    PendingInput,
    ProvideInput,
    ProvideInputResult,
)
from tests.workflows.helpers import (
    events_until,
    example,
    replay_and_record,
    shape,
    start,
    worker,
)

if TYPE_CHECKING:
    import asyncpg
    from temporalio.client import Client, WorkflowHandle
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer

THREE_PROMPTS = load_flow("""
name: three-prompts
nodes:
  - id: first
    type: user_input
    config:
      prompt: Quick?
      timeout_seconds: 1
      on_timeout: default
      default: fallback
  - id: second
    type: user_input
    after: [first]
    config:
      prompt: "Shape (after {{ nodes.first }})"
      input_type: json
      schema:
        type: object
        properties: {x: {type: number, maximum: 10}}
        required: [x]
  - id: third
    type: user_input
    after: [second]
    config: {prompt: "Which?", input_type: choice, choices: [red, blue]}
""")


async def answer(handle: WorkflowHandle[Any, Any], input_id: str, value: Any) -> ProvideInputResult:
    result: ProvideInputResult = await handle.execute_update(
        PROVIDE_INPUT, ProvideInput(input_id=input_id, value=value), result_type=ProvideInputResult
    )
    return result


async def rejection(
    handle: WorkflowHandle[Any, Any], input_id: str, value: Any
) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await answer(handle, input_id, value)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def prompt_of(pool: asyncpg.Pool, execution_id: str, node_id: str) -> dict[str, Any]:
    events = await events_until(pool, execution_id, {"user_input:required"}, node_id=node_id)
    data: dict[str, Any] = events[-1].envelope["data"]
    return data


@pytest.mark.slow
async def test_answers_are_accepted_or_rejected_with_distinct_errors(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    client = temporal_env.client
    async with worker(client, pool) as queue:
        execution_id = await start(client, pool, queue, THREE_PROMPTS)
        handle = client.get_workflow_handle(execution_id)
        first = await prompt_of(pool, execution_id, "first")

        unknown = await rejection(handle, "in_unknown", "x")
        assert unknown.type == "not_found"

        second = await prompt_of(pool, execution_id, "second")  # `first` timed out meanwhile
        assert second["prompt"] == "Shape (after fallback)"
        # Only the open prompt is pending; the timed-out one left the list.
        pending = await handle.query(PENDING_INPUTS, result_type=list[PendingInput])
        assert [(p.input_id, p.node_id, p.prompt, p.input_type) for p in pending] == [
            (second["inputId"], "second", "Shape (after fallback)", "json")
        ]
        assert pending[0].answer_schema == second["schema"]
        expired = await rejection(handle, first["inputId"], "late")
        assert expired.type == "expired"

        invalid = await rejection(handle, second["inputId"], {"x": 42})
        assert invalid.type == "invalid_input"
        assert invalid.details[0] == {
            "errors": [{"path": "/x", "message": "42 is greater than the maximum of 10"}]
        }
        assert (await rejection(handle, second["inputId"], "no")).type == "invalid_input"

        accepted = await answer(handle, second["inputId"], {"x": 3})
        assert accepted == ProvideInputResult(input_id=second["inputId"], node_id="second")
        again = await rejection(handle, second["inputId"], {"x": 4})
        assert again.type == "already_answered"

        third = await prompt_of(pool, execution_id, "third")
        assert third["schema"] == {"enum": ["red", "blue"]}
        assert (await rejection(handle, third["inputId"], "green")).type == "invalid_input"
        await answer(handle, third["inputId"], "blue")
        events = await events_until(pool, execution_id)
    assert {unknown.type, expired.type, invalid.type, again.type} == {
        "not_found",
        "expired",
        "invalid_input",
        "already_answered",
    }
    assert shape(events) == [
        ("execution:started", None),
        ("node:started", "first"),
        ("execution:updated", None),
        ("user_input:required", "first"),
        ("user_input:timeout", "first"),
        ("node:completed", "first"),
        ("execution:updated", None),
        ("node:started", "second"),
        ("execution:updated", None),
        ("user_input:required", "second"),
        ("user_input:received", "second"),
        ("node:completed", "second"),
        ("execution:updated", None),
        ("node:started", "third"),
        ("execution:updated", None),
        ("user_input:required", "third"),
        ("user_input:received", "third"),
        ("node:completed", "third"),
        ("execution:updated", None),
        ("execution:completed", None),
    ]
    timeout = events[4].envelope["data"]
    assert timeout == {
        "inputId": first["inputId"],
        "nodeId": "first",
        "timeoutSeconds": 1,
        "onTimeout": "default",
    }
    assert events[5].envelope["data"]["outputs"] == "fallback"
    assert events[-1].envelope["data"]["outputs"] == {"third": "blue"}


def _one_prompt(on_timeout: str) -> str:
    return f"""
name: one-prompt
nodes:
  - id: ask
    type: user_input
    config: {{prompt: "Hello?", timeout_seconds: 0.5, on_timeout: {on_timeout}}}
  - id: then
    type: transform
    after: [ask]
    config: {{output: "{{{{ nodes.ask }}}}"}}
"""


async def _run_to_end(client: Client, pool: asyncpg.Pool, flow_text: str) -> tuple[str, list]:  # type: ignore[type-arg]
    async with worker(client, pool) as queue:
        execution_id = await start(client, pool, queue, load_flow(flow_text))
        return execution_id, await events_until(pool, execution_id)


async def test_timeout_with_fail_fails_the_execution(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    execution_id, events = await _run_to_end(temporal_env.client, pool, _one_prompt("fail"))
    assert shape(events)[3:] == [
        ("user_input:required", "ask"),
        ("user_input:timeout", "ask"),
        ("node:failed", "ask"),
        ("execution:failed", None),
    ]
    failed = events[-2].envelope["data"]
    assert (failed["error"]["type"], failed["willRetry"], failed["nextRetryInMs"]) == (
        "input_timeout",
        False,
        None,
    )
    assert events[-1].envelope["data"] == {
        "error": {"message": "no answer within 0.5s", "type": "input_timeout"},
        "failedNodeId": "ask",
    }
    assert await pool.fetchval("SELECT status FROM executions WHERE id = $1", execution_id) == (
        "failed"
    )


async def test_timeout_with_skip_skips_what_depends_on_it(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    _, events = await _run_to_end(temporal_env.client, pool, _one_prompt("skip"))
    assert shape(events)[3:] == [
        ("user_input:required", "ask"),
        ("user_input:timeout", "ask"),
        ("node:completed", "ask"),
        ("execution:updated", None),
        ("execution:completed", None),
    ]
    assert events[-1].envelope["data"]["outputs"] == {}


async def test_cancelling_ends_with_execution_failed_cancelled(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    client = temporal_env.client
    flow = load_flow("name: wait\nnodes:\n  - {id: ask, type: user_input, config: {prompt: 'Hi?'}}")
    async with worker(client, pool) as queue:
        execution_id = await start(client, pool, queue, flow)
        await prompt_of(pool, execution_id, "ask")
        await client.get_workflow_handle(execution_id).cancel()
        events = await events_until(pool, execution_id)
    assert events[-1].type == "execution:failed"
    assert events[-1].envelope["data"]["error"]["type"] == "cancelled"
    assert await pool.fetchval("SELECT status FROM executions WHERE id = $1", execution_id) == (
        "cancelled"
    )


async def test_cancelled_before_it_ran_it_still_ends_with_execution_failed(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    """The cancel is in the history before the first workflow task (no worker yet), so it
    meets the registration: the execution registers, starts and ends `cancelled`, and every
    event comes before that end."""
    client = temporal_env.client
    queue = f"test-{uuid.uuid4().hex[:8]}"
    execution_id = await start(client, pool, queue, example("approval.yaml"), amount=500)
    handle = client.get_workflow_handle(execution_id)
    await handle.cancel()
    async with worker(client, pool, task_queue=queue):
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        await replay_and_record(client, execution_id, "approval.cancelled-at-start")
        events = await events_until(pool, execution_id)
    assert shape(events) == [("execution:started", None), ("execution:failed", None)]
    assert events[-1].envelope["data"]["error"]["type"] == "cancelled"
    assert await pool.fetchval("SELECT status FROM executions WHERE id = $1", execution_id) == (
        "cancelled"
    )
