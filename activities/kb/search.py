"""Nearest chunks to a query, by cosine similarity (a dot product of unit vectors)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from activities.kb.store import load_knowledge_base

if TYPE_CHECKING:
    import asyncpg

    from activities.kb.embedder import Embedders

_NEAREST = """
SELECT c.document_id, d.file_name, c.chunk_index, c.content,
       (SELECT sum(a * b) FROM unnest(c.embedding, $2::float8[]) AS t(a, b)) AS score
FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id
WHERE c.knowledge_base_id = $1 AND c.embedding IS NOT NULL
ORDER BY score DESC, c.document_id, c.chunk_index
LIMIT $3
"""


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
    rows = await pool.fetch(_NEAREST, kb.id, vector, limit)
    return [
        Hit(
            r["document_id"], r["file_name"], r["chunk_index"], r["content"], float(r["score"] or 0)
        )
        for r in rows
    ]
