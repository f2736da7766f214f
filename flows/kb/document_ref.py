"""Who and what a document's `kb:*` events are for, carried in every ingestion input."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from flowmaestro.events import event_id
from flowmaestro.events.envelopes import envelope, event_type

if TYPE_CHECKING:
    from flowmaestro.events import Event, EventData


class DocumentRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    knowledge_base_id: str
    document_id: str
    user_id: str
    file_name: str
    file_size: int
    execution_id: str | None = None
    """Set when a flow's `kb_ingest` node ingests, so the events reach the execution too."""

    def event(self, key: tuple[str | int, ...], data: EventData) -> Event:
        """The event of `data`, with an id depending on the document, its type and `key` only
        (and the execution ingesting it: a document ingested again by another execution
        reports again)."""
        scope = () if self.execution_id is None else (self.execution_id,)
        return envelope(
            data,
            id=event_id(self.document_id, *scope, event_type(data), *key),
            user_id=self.user_id,
            execution_id=self.execution_id,
            knowledge_base_id=self.knowledge_base_id,
        )
