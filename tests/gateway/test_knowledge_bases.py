"""Knowledge bases over HTTP: create, upload, and the ingestion's events on `kb:{id}`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from tests.gateway.harness import Recorder, token, with_worker

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer
    from tests.gateway.harness import Running


def of_type(kind: str) -> Any:
    return lambda r: any(e["type"] == kind for e in r.events)


async def test_upload_streams_ingestion_to_the_owner_only(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    async with with_worker(pool, temporal_env.client) as (running, http):
        owner = {"Authorization": f"Bearer {token('u1')}"}
        other = {"Authorization": f"Bearer {token('u2')}"}
        created = await http.post("/api/knowledge-bases", json={"name": "policies"}, headers=owner)
        assert created.status_code == 201, created.text
        kb_id = created.json()["knowledgeBaseId"]
        watcher = await Recorder().connect(running.url, "u1")
        assert (await watcher.call("subscribe", {"channel": f"kb:{kb_id}"}))["ok"]
        text = b"Expenses above 100 need approval.\n" * 20
        refused = await http.post(
            f"/api/knowledge-bases/{kb_id}/documents",
            files={"file": ("policy.txt", text, "text/plain")},
            headers=other,
        )
        assert refused.status_code == 403
        uploaded = await http.post(
            f"/api/knowledge-bases/{kb_id}/documents",
            files={"file": ("policy.txt", text, "text/plain")},
            headers=owner,
        )
        assert uploaded.status_code == 202, uploaded.text
        document_id = uploaded.json()["documentId"]
        await watcher.wait_until(of_type("kb:upload_completed"))
        types = [e["type"] for e in watcher.events]
        assert types[0] == "kb:upload_started" and types[-1] == "kb:upload_completed"
        assert {e["data"]["documentId"] for e in watcher.events} == {document_id}
        await watcher.close()


async def test_the_list_has_the_callers_knowledge_bases_with_document_counts(
    gateway: Running, pool: asyncpg.Pool
) -> None:
    owner = {"Authorization": f"Bearer {token('u1')}"}
    async with httpx.AsyncClient(base_url=gateway.url, headers=owner) as http:
        first = (await http.post("/api/knowledge-bases", json={"name": "first"})).json()
        second = (await http.post("/api/knowledge-bases", json={"name": "second"})).json()
        await http.post("/api/knowledge-bases", json={"name": "theirs"}, headers=other_user())
        for name in ("a.txt", "b.txt"):
            await pool.execute(
                "INSERT INTO kb_documents (id, knowledge_base_id, file_name, file_size) "
                "VALUES ($1, $2, $3, 1)",
                f"doc_{name}",
                first["knowledgeBaseId"],
                name,
            )
        listed = (await http.get("/api/knowledge-bases")).json()["knowledgeBases"]
    assert [(k["knowledgeBaseId"], k["name"], k["documentCount"]) for k in listed] == [
        (second["knowledgeBaseId"], "second", 0),
        (first["knowledgeBaseId"], "first", 2),
    ]


def other_user() -> dict[str, str]:
    return {"Authorization": f"Bearer {token('u2')}"}
