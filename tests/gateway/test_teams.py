"""Visibility (docs/teams.md) on a real gateway: a member of alice's workspace watches her
shared execution everywhere; her private one stays hers; a user of another workspace with
the same group names sees nothing anywhere: listing, channels, SSE, presence, snapshot, the
events endpoint, knowledge bases. And alice herself, signed in without her workspace, sees
none of it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx

from flowmaestro.gateway import mint_token
from tests.gateway.harness import SECRET, Recorder, emit, frames, progress, serve

if TYPE_CHECKING:
    import asyncpg
    from temporalio.client import Client

    from flowmaestro.events.outbox import Sequencer

SHARED, PRIVATE = "ex_shared", "ex_private"


def member(user: str, workspace: str | None = "acme", groups: list[str] | None = None) -> str:
    return mint_token(SECRET, user, 600, workspace=workspace, groups=groups or ["finance"])


async def executions(pool: asyncpg.Pool) -> None:
    await pool.executemany(
        "INSERT INTO executions (id, user_id, workflow_id, workspace_id, visibility) "
        "VALUES ($1, 'alice', 'test', 'acme', $2)",
        [(SHARED, "workspace"), (PRIVATE, "private")],
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_member_watches_a_shared_execution_and_no_other_workspace_sees_anything(
    pool: asyncpg.Pool, sequencer: Sequencer, no_temporal: Client
) -> None:
    await executions(pool)
    alice, bob, eve = member("alice"), member("bob"), member("eve", "globex")
    async with serve(pool, no_temporal) as running, httpx.AsyncClient(base_url=running.url) as http:
        listing = await http.get("/api/executions", headers=bearer(bob))
        assert [e["executionId"] for e in listing.json()["executions"]] == [SHARED]
        assert listing.json()["executions"][0]["ownerId"] == "alice"
        own = await http.get("/api/executions", headers=bearer(alice))
        assert {e["executionId"] for e in own.json()["executions"]} == {SHARED, PRIVATE}
        for outsider in (eve, mint_token(SECRET, "alice", 600)):
            nothing = await http.get("/api/executions", headers=bearer(outsider))
            assert nothing.json()["executions"] == []
            for path in (f"/api/executions/{SHARED}", f"/api/executions/{SHARED}/events"):
                refused = await http.get(path, headers=bearer(outsider))
                assert refused.status_code == 404, (path, refused.text)
            stream = await http.get(
                "/api/stream", params={"channel": f"execution:{SHARED}"}, headers=bearer(outsider)
            )
            assert stream.status_code == 404
        private = await http.get(f"/api/executions/{PRIVATE}", headers=bearer(bob))
        assert private.status_code == 403
        snapshot = await http.get(f"/api/executions/{SHARED}", headers=bearer(bob))
        assert snapshot.json()["visibility"] == "workspace"

        watcher = await Recorder().connect(running.url, auth={"token": alice})
        ack = await watcher.call("subscribe", {"channel": f"execution:{SHARED}"})
        assert ack["ok"] and ack["presence"] == []
        viewer = await Recorder().connect(running.url, auth={"token": bob})
        ack = await viewer.call("subscribe", {"channel": f"execution:{SHARED}"})
        assert ack["ok"] and ack["presence"] == ["alice"], ack
        await watcher.wait_until(lambda r: ("presence:join", "bob") in r.presence)
        refused = await viewer.call("subscribe", {"channel": f"execution:{PRIVATE}"})
        assert refused["error"]["code"] == "forbidden"
        intruder = await Recorder().connect(running.url, auth={"token": eve})
        for channel in (f"execution:{SHARED}", f"agent:a:{SHARED}", "user:alice"):
            refused = await intruder.call("subscribe", {"channel": channel})
            assert refused["error"]["code"] in ("not_found", "forbidden"), refused

        async with http.stream(
            "GET", "/api/stream", params={"channel": f"execution:{SHARED}"}, headers=bearer(bob)
        ) as sse:
            assert sse.status_code == 200
            received = frames(sse)
            assert (await anext(received))["event"] == "ready"
            await emit(pool, progress("alice", SHARED, 1))
            event = await asyncio.wait_for(anext(received), 10)
            assert event["event"] == "node:progress"
        await viewer.wait_until(lambda r: len(r.events) == 1)
        events = await http.get(f"/api/executions/{SHARED}/events", headers=bearer(bob))
        assert [e["type"] for e in events.json()["events"]] == ["node:progress"]
        # Eve's socket never saw any of it, nor did she appear to anyone.
        assert intruder.events == [] and ("presence:join", "eve") not in watcher.presence
        for recorder in (watcher, viewer, intruder):
            await recorder.close()


async def test_knowledge_bases_are_shared_within_the_workspace_only(
    pool: asyncpg.Pool, no_temporal: Client
) -> None:
    alice, bob, eve = member("alice"), member("bob"), member("eve", "globex")
    async with serve(pool, no_temporal) as running, httpx.AsyncClient(base_url=running.url) as http:
        created: dict[str, Any] = {}
        for visibility in ("workspace", "private"):
            response = await http.post(
                "/api/knowledge-bases",
                json={"name": visibility, "visibility": visibility},
                headers=bearer(alice),
            )
            assert response.status_code == 201, response.text
            created[visibility] = response.json()["knowledgeBaseId"]
        seen = await http.get("/api/knowledge-bases", headers=bearer(bob))
        assert [kb["knowledgeBaseId"] for kb in seen.json()["knowledgeBases"]] == [
            created["workspace"]
        ]
        none = await http.get("/api/knowledge-bases", headers=bearer(eve))
        assert none.json()["knowledgeBases"] == []
        upload = await http.post(
            f"/api/knowledge-bases/{created['workspace']}/documents",
            files={"file": ("a.txt", b"hello")},
            headers=bearer(bob),
        )
        assert upload.status_code == 403
        viewer = await Recorder().connect(running.url, auth={"token": bob})
        ack = await viewer.call("subscribe", {"channel": f"kb:{created['workspace']}"})
        assert ack["ok"], ack
        intruder = await Recorder().connect(running.url, auth={"token": eve})
        refused = await intruder.call("subscribe", {"channel": f"kb:{created['workspace']}"})
        assert refused["error"]["code"] == "not_found"
        await viewer.close()
        await intruder.close()
