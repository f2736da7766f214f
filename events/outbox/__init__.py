"""The Postgres outbox: write events, sequence them into dense positions, read them back."""

from __future__ import annotations

from flowmaestro.events.outbox.availability import Availability, is_outage
from flowmaestro.events.outbox.emitter import Emitter, NullEmitter, PostgresEmitter, write_events
from flowmaestro.events.outbox.feed import Feed
from flowmaestro.events.outbox.lag import OutboxLag, read_lag
from flowmaestro.events.outbox.reader import (
    OutboxReader,
    ReadResult,
    Sequenced,
    StoredEvent,
    parse_lines,
)
from flowmaestro.events.outbox.retention import prune_before
from flowmaestro.events.outbox.sequencer import (
    Published,
    Sequencer,
    sequence_once,
    sequence_published,
)
from flowmaestro.events.outbox.sink import BatchSink

__all__ = [
    "Availability",
    "BatchSink",
    "Emitter",
    "Feed",
    "NullEmitter",
    "OutboxLag",
    "OutboxReader",
    "PostgresEmitter",
    "Published",
    "ReadResult",
    "Sequenced",
    "Sequencer",
    "StoredEvent",
    "is_outage",
    "parse_lines",
    "prune_before",
    "read_lag",
    "sequence_once",
    "sequence_published",
    "write_events",
]
