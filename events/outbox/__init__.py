"""The Postgres outbox: write events, sequence them into dense positions, read them back."""

from __future__ import annotations

from flowmaestro.events.outbox.availability import Availability, is_outage
from flowmaestro.events.outbox.emitter import Emitter, NullEmitter, PostgresEmitter, write_events
from flowmaestro.events.outbox.lag import OutboxLag, read_lag
from flowmaestro.events.outbox.reader import OutboxReader, ReadResult, StoredEvent
from flowmaestro.events.outbox.retention import prune_before
from flowmaestro.events.outbox.sequencer import Sequencer, sequence_once

__all__ = [
    "Availability",
    "Emitter",
    "NullEmitter",
    "OutboxLag",
    "OutboxReader",
    "PostgresEmitter",
    "ReadResult",
    "Sequencer",
    "StoredEvent",
    "is_outage",
    "prune_before",
    "read_lag",
    "sequence_once",
    "write_events",
]
