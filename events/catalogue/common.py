"""Pieces of `data` shared by several event types."""

from __future__ import annotations

from pydantic import Field

from flowmaestro.events.model import WireModel


class ErrorInfo(WireModel):
    """A failure as clients see it: a human message and a machine-readable type."""

    message: str = Field(max_length=10_000)
    type: str = Field(min_length=1, max_length=200)
