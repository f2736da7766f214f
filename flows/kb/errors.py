"""Ingestion failures: each names the step it happened in and a machine-readable type."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowmaestro.flows.errors import FlowsError

if TYPE_CHECKING:
    from flowmaestro.events.catalogue.kb import KbStep


class KbError(FlowsError):
    """A document cannot be ingested (or a knowledge base used) as asked.

    `retryable` is False for the document's own faults (unreadable, empty, too large).
    """

    def __init__(self, message: str, *, step: KbStep, type: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.step = step
        self.type = type
        self.retryable = retryable
