"""The `kb_ingest` node's config, as a flow file states it."""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import Field, model_validator

from flowmaestro.flows.nodes.base import NodeConfig, NodeType


class KbIngestConfig(NodeConfig):
    knowledge_base_id: str | None = Field(default=None, min_length=1, max_length=200)
    """An existing knowledge base of the user's; None: the user's knowledge base called
    `knowledge_base_name` (created on first use, its id derived from both)."""
    knowledge_base_name: str = Field(default="default", min_length=1, max_length=200)
    path: str | None = Field(default=None, min_length=1, max_length=4096)
    """A file under the operator's import root (FLOWMAESTRO_LIMITS__KB_IMPORT_ROOT); without
    that setting no file is readable (give `text`, or upload through the API)."""
    text: str | None = None
    file_name: str | None = None
    """The document's name (its extension picks the extractor); defaults to the path's name."""
    max_bytes: int = Field(default=20 << 20, gt=0)
    """Narrows FLOWMAESTRO_LIMITS__MAX_DOCUMENT_BYTES (never raises it)."""

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.path is None) == (self.text is None):
            raise ValueError("give exactly one of path and text")
        if self.text is not None and self.file_name is None:
            raise ValueError("text needs a file_name (e.g. notes.md)")
        return self


class KbIngest(NodeType[KbIngestConfig]):
    type_name: ClassVar[str] = "kb_ingest"
    config_model = KbIngestConfig
