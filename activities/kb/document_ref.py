"""Who and what a document's `kb:*` events are for, carried in every ingestion input."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from flowmaestro.events import event_id, parse_event

if TYPE_CHECKING:
    from flowmaestro.events import Event


class DocumentRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    knowledge_base_id: str
    document_id: str
    user_id: str
    file_name: str
    file_size: int
    execution_id: str | None = None
    """Set when a flow's `kb_ingest` node ingests, so the events reach the execution too."""

    def event(self, type: str, key: tuple[str | int, ...], data: dict[str, Any]) -> Event:
        """A validated event whose id depends on the document, type and `key` only (and the
        execution ingesting it: a document ingested again by another execution reports again)."""
        scope = () if self.execution_id is None else (self.execution_id,)
        return parse_event(
            {
                "id": str(event_id(self.document_id, *scope, type, *key)),
                "type": type,
                "userId": self.user_id,
                "executionId": self.execution_id,
                "knowledgeBaseId": self.knowledge_base_id,
                "data": data,
            }
        )
