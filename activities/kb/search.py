"""Nearest chunks to a query, by cosine similarity (a dot product of unit vectors): with
pgvector's inner product where the server has it (migration 0008), else over plain arrays."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flowmaestro.flows.kb.store import load_knowledge_base

if TYPE_CHECKING:
    import asyncpg

    from flowmaestro.activities.kb.embedder import Embedders

_NEAREST = """
SELECT c.document_id, d.file_name, c.chunk_index, c.content, {score} AS score
FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id
WHERE c.knowledge_base_id = $1 AND c.embedding IS NOT NULL
ORDER BY score DESC, c.document_id, c.chunk_index
LIMIT $3
"""
_NEAREST_ARRAY = _NEAREST.format(
    score="(SELECT sum(a * b) FROM unnest(c.embedding, $2::float8[]) AS t(a, b))"
)
# `<#>` is pgvector's negated inner product.
_NEAREST_VECTOR = _NEAREST.format(score="-(c.embedding_vector <#> $2::float8[]::vector)")
_HAS_VECTOR = """
SELECT EXISTS (
    SELECT 1 FROM pg_attribute
    WHERE attrelid = 'kb_chunks'::regclass AND attname = 'embedding_vector' AND NOT attisdropped
)
"""


async def uses_pgvector(pool: asyncpg.Pool) -> bool:
    """Whether this database's chunks carry pgvector vectors (migration 0008 decided)."""
    return bool(await pool.fetchval(_HAS_VECTOR))


@dataclass(frozen=True, slots=True)
class Hit:
    document_id: str
    file_name: str
    chunk_index: int
    content: str
    score: float


async def search(
    pool: asyncpg.Pool,
    embedders: Embedders,
    *,
    kb_id: str,
    user_id: str,
    query: str,
    limit: int = 5,
) -> list[Hit]:
    """The `limit` chunks of `kb_id` (which `user_id` must own) nearest to `query`, best first."""
    kb = await load_knowledge_base(pool, kb_id, user_id)
    [vector] = await embedders.get(kb.embedding_model).embed([query])
    nearest = _NEAREST_VECTOR if await uses_pgvector(pool) else _NEAREST_ARRAY
    rows = await pool.fetch(nearest, kb.id, vector, limit)
    return [
        Hit(
            r["document_id"], r["file_name"], r["chunk_index"], r["content"], float(r["score"] or 0)
        )
        for r in rows
    ]
