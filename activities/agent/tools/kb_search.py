"""`kb_search`: the chunks of a knowledge base nearest to a query."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import JsonValue

from flowmaestro.activities.agent.errors import ToolError
from flowmaestro.activities.agent.messages import ToolSpec
from flowmaestro.activities.kb.search import search
from flowmaestro.flows.kb.errors import KbError

if TYPE_CHECKING:
    import asyncpg

    from flowmaestro.activities.kb.embedder import Embedders


class KbSearch:
    spec = ToolSpec(
        name="kb_search",
        description="Search the knowledge base; returns the passages nearest to the query, best first.",
        parameters={
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "limit": {"type": "integer", "minimum": 1, "maximum": 20},
            },
            "required": ["query"],
        },
    )

    def __init__(
        self, pool: asyncpg.Pool, embedders: Embedders, *, kb_id: str, user_id: str
    ) -> None:
        self._pool = pool
        self._embedders = embedders
        self._kb_id = kb_id
        self._user_id = user_id

    async def call(self, arguments: dict[str, JsonValue]) -> JsonValue:
        query = arguments.get("query")
        limit = arguments.get("limit", 3)
        if not isinstance(query, str) or not query.strip():
            raise ToolError("`query` must be a non-empty string", type="invalid_arguments")
        if not isinstance(limit, int) or not 1 <= limit <= 20:
            raise ToolError("`limit` must be an integer from 1 to 20", type="invalid_arguments")
        try:
            hits = await search(
                self._pool,
                self._embedders,
                kb_id=self._kb_id,
                user_id=self._user_id,
                query=query,
                limit=limit,
            )
        except KbError as exc:
            raise ToolError(exc.message, type=exc.type) from exc
        return [
            {
                "content": h.content,
                "fileName": h.file_name,
                "chunkIndex": h.chunk_index,
                "score": round(h.score, 4),
            }
            for h in hits
        ]
