"""The inbox (docs/teams.md) on a real stack: a prompt of a shared execution reaches each
assignee's own channel live and their `GET /api/inbox`, oldest first and cursor-paginated;
it drops from both, live, when it is answered or times out; a socket resuming from a
position gets what it missed; the requester under `exclude_requester`, a member outside the
group and another workspace's member of a group of the same name see none of it."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import pytest

from bench.listing import generate_executions
from flowmaestro.client import Client, ClientError
from flowmaestro.gateway import mint_token
from flowmaestro.gateway.auth import Principal
from flowmaestro.gateway.inbox import InboxCursor, inbox_page, inbox_query
from tests.gateway.harness import SECRET, Recorder, with_worker
from tests.gateway.test_listing import plan_nodes
from tests.workflows.helpers import events_until

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer


def flow(name: str, **config: Any) -> dict[str, Any]:
    return {
        "name": name,
        "visibility": "workspace",
        "nodes": [
            {
                "id": "ask",
                "type": "user_input",
                "config": {"prompt": f"{name}?", "input_type": "boolean", **config},
            }
        ],
    }


EXPENSE = flow("expense", assignees={"groups": ["finance"]}, exclude_requester=True)
DEPLOY = flow(
    "deploy",
    assignees={"users": ["carol"]},
    timeout_seconds=3,
    on_timeout="default",
    default=False,
)


def token(user: str, *groups: str, workspace: str = "acme") -> str:
    return mint_token(SECRET, user, 600, workspace=workspace, groups=list(groups))


def of(kind: str, execution_id: str) -> Any:
    return lambda r: any(e["type"] == kind and e["executionId"] == execution_id for e in r.events)


async def test_prompts_reach_each_assignees_inbox_live_and_drop_when_done(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    async with with_worker(pool, temporal_env.client) as (running, http):
        tokens = {
            "alice": token("alice", "finance"),
            "carol": token("carol", "finance"),
            "bob": token("bob", "ops"),
            "eve": token("eve", "finance", workspace="globex"),
        }
        sockets = {
            user: await Recorder().connect(running.url, auth={"token": t})
            for user, t in tokens.items()
        }

        async def inbox(user: str, **params: Any) -> dict[str, Any]:
            response = await http.get(
                "/api/inbox", params=params, headers={"Authorization": f"Bearer {tokens[user]}"}
            )
            assert response.status_code == 200, response.text
            result: dict[str, Any] = response.json()
            return result

        started = []
        for document in (EXPENSE, DEPLOY):
            response = await http.post(
                "/api/executions",
                json={"flow": document},
                headers={"Authorization": f"Bearer {tokens['alice']}"},
            )
            assert response.status_code == 201, response.text
            execution_id = response.json()["executionId"]
            await events_until(pool, execution_id, {"user_input:required"})
            started.append(execution_id)
        expense, deploy = started

        await sockets["carol"].wait_until(of("user_input:required", deploy))
        assert of("user_input:required", expense)(sockets["carol"])
        first = await inbox("carol", limit=1)
        [prompt] = first["prompts"]
        assert prompt["executionId"] == expense and prompt["assignees"]["groups"] == ["finance"]
        assert prompt["ownerId"] == "alice" and prompt["askedAt"]
        second = await inbox("carol", limit=1, cursor=first["nextCursor"])
        async with Client(running.url, tokens["carol"]) as client:  # the same, in Python
            assert await client.inbox(limit=1) == first
            assert await client.inbox(limit=1, cursor=first["nextCursor"]) == second
            with pytest.raises(ClientError) as refused:
                await client.inbox(cursor="not-a-cursor")
            assert refused.value.code == "bad_request"
        assert [p["executionId"] for p in second["prompts"]] == [deploy]
        assert second["prompts"][0]["expiresAt"] and second["nextCursor"] is None
        # alice is the requester of the expense (excluded) and not assigned the deploy.
        assert (await inbox("alice"))["prompts"] == []
        assert (await inbox("bob"))["prompts"] == []
        assert (await inbox("eve"))["prompts"] == []

        # The deploy times out: it leaves carol's inbox, live and in the listing.
        await sockets["carol"].wait_until(of("user_input:timeout", deploy), timeout=30)
        assert [p["executionId"] for p in (await inbox("carol"))["prompts"]] == [expense]

        input_id = prompt["inputId"]
        answered = await http.post(
            f"/api/executions/{expense}/inputs/{input_id}",
            json={"value": True},
            headers={"Authorization": f"Bearer {tokens['carol']}"},
        )
        assert answered.status_code == 200, answered.text
        await sockets["carol"].wait_until(of("user_input:received", expense))
        assert (await inbox("carol"))["prompts"] == []

        # A socket resuming from 0 gets the inbox's events it missed, in order.
        resumed = await Recorder().connect(running.url, auth={"token": tokens["carol"], "after": 0})
        await resumed.wait_until(of("user_input:received", expense))
        types = [e["type"] for e in resumed.events if e["executionId"] == expense]
        assert types == ["user_input:required", "user_input:received"], types
        positions = resumed.positions()
        assert positions == sorted(positions)

        # Nothing of it reached outside the group or the workspace.
        for user in ("bob", "eve"):
            assert sockets[user].events == [], (user, sockets[user].events)
        for recorder in (*sockets.values(), resumed):
            await recorder.close()


_PROMPTING = """
UPDATE executions SET workspace_id = CASE WHEN left(right(id, 4), 1) < '5' THEN 'acme' END,
    visibility = 'workspace',
    state = jsonb_build_object('pendingInputs', jsonb_build_object(
        'in_' || id,
        jsonb_build_array(
            jsonb_build_object('inputId', 'in_' || id, 'nodeId', 'ask', 'prompt', '?',
                               'inputType', 'boolean', 'schema', '{}'::jsonb,
                               'assignees', jsonb_build_object('users', '[]'::jsonb,
                                                               'groups', '["finance"]'::jsonb)),
            created_at)))
WHERE right(id, 3) = '000'
"""


@pytest.mark.parametrize("workspace", ["acme", None], ids=["workspace", "personal"])
async def test_the_inbox_reads_only_executions_with_an_open_prompt_over_100k(
    pool: asyncpg.Pool, workspace: str | None
) -> None:
    await generate_executions(pool, 100_000)
    await pool.execute(_PROMPTING)  # 100 of them prompt, half in acme
    await pool.execute("ANALYZE executions")
    viewer = Principal("heavy", math.inf, workspace=workspace, groups=frozenset({"finance"}))
    first = await inbox_page(pool, viewer, None, 10)
    assert len(first["prompts"]) == 10 and first["nextCursor"]
    async with pool.acquire() as con:
        for cursor in (None, InboxCursor.decode(first["nextCursor"])):
            sql, args = inbox_query(viewer, cursor, 10)
            statement = await con.prepare(f"EXPLAIN (FORMAT JSON) {sql}")
            [explained] = json.loads(await statement.fetchval(*args))
            nodes = plan_nodes(explained["Plan"])
            assert "Seq Scan" not in nodes, nodes
            index = "executions_prompting_" + ("workspace" if workspace else "user")
            assert index in json.dumps(explained), explained
