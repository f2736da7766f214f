"""Deterministic event ids: the same emitting context always yields the same id.

A retried activity re-derives the ids of the events it already wrote, so the outbox's
UNIQUE(event_id) turns the retried insert into a no-op.
"""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("6f1c2b7e-3f44-4c39-9d1e-6a0b5f0e8a11")


def event_id(*parts: str | int) -> uuid.UUID:
    """An id derived from the emitting context, e.g. (workflow id, run id, step key, index).

    Keep `attempt` out of the parts for events a retry must not repeat.
    """
    return uuid.uuid5(_NAMESPACE, "\x1f".join(str(p) for p in parts))
