"""Ingesting through the pipeline into real Postgres, then searching: the chunk holding a
phrase comes first, and only the owner can search."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from activities.agent.errors import ToolError
from activities.agent.tools.kb_search import KbSearch
from activities.kb import store
from activities.kb.document_ref import DocumentRef
from activities.kb.embedder import Embedders
from activities.kb.pipeline import Ingestion
from events.outbox import PostgresEmitter
from tests.activities.kb.documents import MARKDOWN, PHRASE

if TYPE_CHECKING:
    import asyncpg


async def ingest(
    pool: asyncpg.Pool, http: httpx.AsyncClient, owner: str, name: str, content: bytes
) -> str:
    kb = await store.create_knowledge_base(
        pool, owner_id=owner, name="docs", chunk_size=300, chunk_overlap=40
    )
    document = await store.create_document(
        pool, kb, file_name=name, content=content, file_size=len(content)
    )
    doc = DocumentRef(
        knowledge_base_id=kb.id,
        document_id=document.id,
        user_id=owner,
        file_name=name,
        file_size=len(content),
    )
    ingestion = Ingestion(doc, pool=pool, emitter=PostgresEmitter(pool), embedders=Embedders(http))
    await ingestion.extract(1 << 20)
    chunks = await ingestion.chunk()
    assert await ingestion.embed() == chunks > 3
    return kb.id


async def test_the_chunk_with_the_phrase_comes_first(pool: asyncpg.Pool) -> None:
    async with httpx.AsyncClient() as http:
        kb_id = await ingest(pool, http, "u1", "handbook.md", MARKDOWN.encode())
        tool = KbSearch(pool, Embedders(http), kb_id=kb_id, user_id="u1")
        hits = await tool.call({"query": "how long is the refund window?", "limit": 3})
    assert isinstance(hits, list) and len(hits) == 3
    first = hits[0]
    assert isinstance(first, dict) and isinstance(first["content"], str)
    assert PHRASE in first["content"]
    scores = [h["score"] for h in hits if isinstance(h, dict)]
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]


async def test_another_users_knowledge_base_is_not_found(pool: asyncpg.Pool) -> None:
    async with httpx.AsyncClient() as http:
        kb_id = await ingest(pool, http, "u1", "handbook.md", MARKDOWN.encode())
        tool = KbSearch(pool, Embedders(http), kb_id=kb_id, user_id="intruder")
        with pytest.raises(ToolError) as caught:
            await tool.call({"query": PHRASE})
    assert caught.value.type == "not_found"
