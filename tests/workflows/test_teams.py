"""Assignees in the `provide_input` Update's validator (docs/teams.md): the check the gateway
makes runs again in the workflow, from the answerer the answer carries. A group member
answers; a non-member, another workspace's member of a group of the same name, an answer
that does not say who gives it and the requester under `exclude_requester` are refused
`forbidden` before anything enters history; of two assignees answering at once exactly one
wins. `user_input:received` says who answered, when and how, and the run's history replays
on the patched path."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from flowmaestro.flows.flow import load_flow
from flowmaestro.flows.messages import (
    PENDING_INPUTS,
    PROVIDE_INPUT,
    Answerer,
    PendingInput,
    ProvideInput,
    ProvideInputResult,
)
from flowmaestro.flows.start import start_execution
from flowmaestro.workflows.prompts import AUDITS_ANSWERS
from tests.workflows.helpers import events_until, replay_and_record, worker

if TYPE_CHECKING:
    import asyncpg
    from temporalio.client import WorkflowHandle
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer

FINANCE_APPROVAL = load_flow("""
name: finance-approval
visibility: workspace
nodes:
  - id: approve
    type: user_input
    config:
      prompt: Approve the expense?
      input_type: boolean
      assignees: {groups: [finance], users: [zoe]}
      exclude_requester: true
""")


def person(user: str, *groups: str, workspace: str | None = "acme") -> Answerer:
    return Answerer(user_id=user, workspace=workspace, groups=list(groups), client="http")


async def answer(
    handle: WorkflowHandle[Any, Any], input_id: str, answerer: Answerer | None, value: Any = True
) -> ProvideInputResult:
    result: ProvideInputResult = await handle.execute_update(
        PROVIDE_INPUT,
        ProvideInput(input_id=input_id, value=value, answerer=answerer),
        result_type=ProvideInputResult,
    )
    return result


async def refused(
    handle: WorkflowHandle[Any, Any], input_id: str, answerer: Answerer | None
) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await answer(handle, input_id, answerer)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def test_only_an_assignee_answers_and_one_of_two_at_once_wins(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    client = temporal_env.client
    async with worker(client, pool) as queue:
        execution_id = await start_execution(
            client, FINANCE_APPROVAL, "alice", {}, pool=pool, task_queue=queue, workspace="acme"
        )
        row = await pool.fetchrow(
            "SELECT workspace_id, visibility FROM executions WHERE id = $1", execution_id
        )
        assert row is not None and tuple(row) == ("acme", "workspace")  # the flow's visibility
        [required] = (await events_until(pool, execution_id, {"user_input:required"}))[-1:]
        data = required.envelope["data"]
        assert data["assignees"] == {"users": ["zoe"], "groups": ["finance"]}
        assert data["excludeRequester"] is True
        handle = client.get_workflow_handle(execution_id)
        pending = await handle.query(PENDING_INPUTS, result_type=list[PendingInput])
        assert pending[0].assignees is not None and pending[0].assignees.groups == ["finance"]
        input_id = data["inputId"]

        for who, why in [
            (None, "must say who"),
            (person("bob", "ops"), "not an assignee"),
            (person("alice", "finance"), "requester"),
            (person("eve", "finance", workspace="globex"), "workspace"),
            (person("zoe", workspace=None), "workspace"),
        ]:
            cause = await refused(handle, input_id, who)
            assert cause.type == "forbidden" and why in cause.message, (who, cause.message)

        outcomes = await asyncio.gather(
            answer(handle, input_id, person("carol", "finance")),
            answer(handle, input_id, person("zoe")),
            return_exceptions=True,
        )
        won = [o for o in outcomes if isinstance(o, ProvideInputResult)]
        lost = [o for o in outcomes if isinstance(o, WorkflowUpdateFailedError)]
        assert len(won) == 1 and len(lost) == 1, outcomes
        assert isinstance(lost[0].cause, ApplicationError)
        assert lost[0].cause.type == "already_answered"

        events = await events_until(pool, execution_id)
        [received] = [e for e in events if e.type == "user_input:received"]
        audit = received.envelope["data"]
        assert audit["answeredBy"] in ("carol", "zoe") and audit["client"] == "http"
        assert audit["answeredAt"] is not None
        assert events[-1].type == "execution:completed"

        history = await handle.fetch_history()
        patches = [
            p.data
            for e in history.events
            if e.HasField("marker_recorded_event_attributes")
            for p in e.marker_recorded_event_attributes.details["patch-data"].payloads
        ]
        assert any(AUDITS_ANSWERS.encode() in data for data in patches), patches
        await replay_and_record(client, execution_id, "finance-approval")


async def test_a_prompt_without_assignees_is_the_owners(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    flow = load_flow("""
name: own
nodes:
  - {id: ok, type: user_input, config: {prompt: "OK?", input_type: boolean}}
""")
    client = temporal_env.client
    async with worker(client, pool) as queue:
        execution_id = await start_execution(
            client, flow, "alice", {}, pool=pool, task_queue=queue, workspace="acme"
        )
        [required] = (await events_until(pool, execution_id, {"user_input:required"}))[-1:]
        assert "assignees" not in required.envelope["data"]
        input_id = required.envelope["data"]["inputId"]
        handle = client.get_workflow_handle(execution_id)
        cause = await refused(handle, input_id, person("bob", "finance"))
        assert cause.type == "forbidden" and "owner" in cause.message
        # A Temporal client that does not say who answers is trusted, as before teams.
        assert (await answer(handle, input_id, None)).input_id == input_id
        events = await events_until(pool, execution_id)
        [received] = [e for e in events if e.type == "user_input:received"]
        assert "answeredBy" not in received.envelope["data"]
        assert received.envelope["data"]["client"] == "temporal"
