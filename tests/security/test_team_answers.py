"""Answering a prompt one is not assigned (docs/teams.md, Assignees) on a real stack: the
gateway, a worker, Temporal. Over HTTP (the path of the SSE fallback too) and Socket.IO, a
watching member outside the group, the requester under `exclude_requester` and a member of
another workspace with a group of the same name are refused; nothing reaches the workflow
(its history holds no update). A finance member answers, and of two assignees answering at
once exactly one wins, the other gets `already_answered`."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from flowmaestro.gateway import mint_token
from tests.gateway.harness import SECRET, Recorder, with_worker
from tests.workflows.helpers import events_until

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer

FLOW = {
    "name": "expense",
    "visibility": "workspace",
    "nodes": [
        {
            "id": "approve",
            "type": "user_input",
            "config": {
                "prompt": "Approve?",
                "input_type": "boolean",
                "assignees": {"groups": ["finance"]},
                "exclude_requester": True,
            },
        }
    ],
}


def bearer(user: str, *groups: str, workspace: str = "acme") -> dict[str, str]:
    token = mint_token(SECRET, user, 600, workspace=workspace, groups=list(groups))
    return {"Authorization": f"Bearer {token}"}


async def updates(temporal_env: WorkflowEnvironment, execution_id: str) -> int:
    history = await temporal_env.client.get_workflow_handle(execution_id).fetch_history()
    return sum(
        e.HasField("workflow_execution_update_accepted_event_attributes") for e in history.events
    )


async def test_only_assignees_answer_through_every_path(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    async with with_worker(pool, temporal_env.client) as (running, http):
        started = await http.post(
            "/api/executions", json={"flow": FLOW}, headers=bearer("alice", "finance")
        )
        assert started.status_code == 201, started.text
        execution_id = started.json()["executionId"]
        [required] = (await events_until(pool, execution_id, {"user_input:required"}))[-1:]
        input_id = required.envelope["data"]["inputId"]
        path = f"/api/executions/{execution_id}/inputs/{input_id}"

        refusals: list[tuple[dict[str, str], str]] = [
            (bearer("bob", "ops"), "forbidden"),  # a member, not in finance
            (bearer("alice", "finance"), "forbidden"),  # the requester, excluded
            (bearer("eve", "finance", workspace="globex"), "not_found"),
        ]
        for headers, code in refusals:
            response = await http.post(path, json={"value": True}, headers=headers)
            assert response.json()["error"]["code"] == code, response.text
            token = headers["Authorization"].removeprefix("Bearer ")
            socket = await Recorder().connect(running.url, auth={"token": token})
            ack = await socket.call(
                "user_input:provide",
                {"executionId": execution_id, "inputId": input_id, "value": True},
            )
            assert ack["error"]["code"] == code, ack
            await socket.close()
        assert await updates(temporal_env, execution_id) == 0

        def answer(user: str) -> Any:
            return http.post(path, json={"value": True}, headers=bearer(user, "finance"))

        carol, dave = await asyncio.gather(answer("carol"), answer("dave"))
        codes = sorted([carol.status_code, dave.status_code])
        assert codes == [200, 409], (carol.text, dave.text)
        loser = carol if carol.status_code == 409 else dave
        assert loser.json()["error"]["code"] == "already_answered"
        winner = "carol" if carol.status_code == 200 else "dave"

        events = await events_until(pool, execution_id)
        [received] = [e for e in events if e.type == "user_input:received"]
        assert received.envelope["data"]["answeredBy"] == winner
        assert received.envelope["data"]["client"] == "http"
        snapshot = await http.get(f"/api/executions/{execution_id}", headers=bearer("bob", "ops"))
        [audit] = snapshot.json()["answers"]
        assert audit["answeredBy"] == winner and audit["value"] is True
        assert audit["answeredAt"] and audit["inputId"] == input_id
