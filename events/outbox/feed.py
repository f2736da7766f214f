"""What a fan-out consumes: the sequenced events, a page at a time (the seam a broker fills)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from flowmaestro.events.outbox.reader import StoredEvent


class Feed(Protocol):
    """Every event with a position greater than `after`, forever, in order, each once, in
    non-empty pages of at most `batch`. `OutboxReader` tails Postgres;
    `flowmaestro.broker.BrokeredFeed` takes batches from a broker."""

    def pages(self, after: int, batch: int = 1000) -> AsyncGenerator[list[StoredEvent], None]: ...
