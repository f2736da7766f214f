"""Base classes shared by every event: strict, frozen, camelCase on the wire."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    """Frozen, no unknown fields, camelCase aliases; Python code may use either name."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
    )


ADDED = "omittedAtDefault"
"""Marks an `added_field` in the JSON Schema: the wire schema does not require it."""


def added_field(default: Any = None, **kwargs: Any) -> Any:
    """A field a message or event gained after it first shipped: left out of the serialized
    form while it holds `default`, so a payload that does not use it keeps its exact bytes
    (Temporal histories recorded before it replay with the same inputs)."""
    return Field(
        default,
        exclude_if=lambda value: value == default,
        json_schema_extra={ADDED: True},
        **kwargs,
    )


def _now() -> datetime:
    return datetime.now(UTC)


class Envelope(WireModel):
    """What every event carries around its `data` (docs/protocol.md).

    `position` is None until the sequencer assigns it; it is never written by emitters.
    """

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    position: int | None = None
    timestamp: AwareDatetime = Field(default_factory=_now)
    user_id: str = Field(min_length=1, max_length=200)
    execution_id: str | None = Field(default=None, min_length=1, max_length=200)
    workflow_id: str | None = None
    agent_id: str | None = Field(default=None, min_length=1, max_length=200)
    knowledge_base_id: str | None = Field(default=None, min_length=1, max_length=200)

    def wire(self) -> dict[str, Any]:
        """The JSON-ready dict sent to clients (camelCase)."""
        return self.model_dump(mode="json")
