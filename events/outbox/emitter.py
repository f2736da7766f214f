"""Writing events into the outbox, in the caller's transaction or in one of its own."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Protocol

from opentelemetry import trace

from flowmaestro.events.catalogue import UserInputReceived, UserInputRequired, UserInputTimeout
from flowmaestro.events.catalogue.user_input import Assignees
from flowmaestro.events.channels import channels_for, inbox_channels
from flowmaestro.events.execution_state import composed, state_patch
from flowmaestro.events.outbox.channels import WRITTEN
from flowmaestro.events.outbox.tracing import TRACER, current_traceparent

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence

    import asyncpg
    from opentelemetry.trace import Tracer

    from flowmaestro.events.catalogue import Event
    from flowmaestro.events.outbox.connection import Connection

# Rows per INSERT statement: large enough to amortise the round trip, small enough that one
# statement never holds megabytes of parameters.
BATCH_ROWS = 1000

# The NOTIFY rides in the same statement to save a round trip per transaction; it is sent
# only while the sequencer sleeps (`outbox_written`, migration 0021).
_INSERTED = """
WITH inserted AS (
    INSERT INTO event_outbox (event_id, type, channels, envelope, trace_context)
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::jsonb[], $6::text[])
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id
)"""
_WRITTEN = "SELECT outbox_written($5, (SELECT count(*) FROM inserted))"
_INSERT = f"{_INSERTED}\n{_WRITTEN}"
# The same, folding the new events' state patches into their executions' rows in the same
# statement. When every event is new (the usual case), the patches composed beforehand ($9,
# $10); otherwise each inserted event's own patch, once per id, in order: a retried event,
# skipped as a duplicate, is not folded twice.
_INSERT_AND_FOLD = f"""{_INSERTED}, folds AS (
    SELECT DISTINCT ON (u.event_id) u.execution_id, u.patch, u.n
    FROM unnest($1::uuid[], $7::text[], $8::jsonb[])
         WITH ORDINALITY AS u (event_id, execution_id, patch, n)
    JOIN inserted USING (event_id)
    ORDER BY u.event_id, u.n
)
{_WRITTEN},
       CASE WHEN (SELECT count(*) FROM inserted) = cardinality($1::uuid[])
            THEN execution_fold($9::text[], $10::jsonb[])
            ELSE execution_fold(
                ARRAY(SELECT execution_id FROM folds WHERE patch IS NOT NULL ORDER BY n),
                ARRAY(SELECT patch FROM folds WHERE patch IS NOT NULL ORDER BY n)
            )
       END
"""


# The shared executions among those of the prompts being written, with their open prompts
# (a prompt's answer or timeout is routed as its announcement was).
_SHARED = """
SELECT id, workspace_id, state -> 'pendingInputs' FROM executions
WHERE id = ANY($1::text[]) AND workspace_id IS NOT NULL AND visibility = 'workspace'
"""


class Emitter(Protocol):
    """Where node executors send their events. Writes are idempotent by event id."""

    async def emit(self, events: Sequence[Event]) -> int:
        """Write `events` durably; return how many were new (retried ids are skipped)."""
        ...


async def write_events(
    con: Connection, events: Sequence[Event], traces: Sequence[str | None] | None = None
) -> int:
    """Insert `events` in the caller's open transaction; return how many rows were new.
    `traces` holds each event's traceparent (default: the current span's, for all).

    Events are already validated (models are frozen and validated on construction); the
    position is left to the sequencer. The transaction must commit synchronously (the
    default): the sequencer's asynchronous commits rely on every row it sees being durable.
    One NOTIFY per transaction wakes the sequencer when it sleeps (Postgres folds repeated
    identical notifications within a transaction; an awake sequencer needs none). The events of an execution are folded into its state
    row (events/execution_state.py) in the same statement.
    """
    if not events:
        return 0
    if traces is None:
        traces = [current_traceparent()] * len(events)
    inserted = 0
    for start in range(0, len(events), BATCH_ROWS):
        chunk = events[start : start + BATCH_ROWS]
        inboxes = await _inbox_routes(con, chunk)
        rows = (
            [e.id for e in chunk],
            [e.type for e in chunk],
            [json.dumps(channels_for(e) + inboxes.get(e.id, ())) for e in chunk],
            [e.model_dump_json(exclude={"position"}) for e in chunk],
            WRITTEN,
            list(traces[start : start + BATCH_ROWS]),
        )
        patches = [state_patch(e) if e.execution_id is not None else None for e in chunk]
        if any(p is not None for p in patches):
            together = composed(
                [
                    (e.execution_id, p)
                    for e, p in zip(chunk, patches, strict=True)
                    if p and e.execution_id
                ]
            )
            inserted += await con.fetchval(
                _INSERT_AND_FOLD,
                *rows,
                [e.execution_id for e in chunk],
                [None if p is None else json.dumps(p) for p in patches],
                [execution_id for execution_id, _ in together],
                [json.dumps(p) for _, p in together],
            )
        else:
            inserted += await con.fetchval(_INSERT, *rows)
    return inserted


async def _inbox_routes(
    con: Connection, events: Sequence[Event]
) -> dict[uuid.UUID, tuple[str, ...]]:
    """The inbox channels of the prompt events among `events` (docs/teams.md, Inbox): those
    of a shared execution with assignees reach each assignee's inbox. One query, and only
    when a prompt event is written."""
    prompts = [
        e
        for e in events
        if isinstance(e, UserInputRequired | UserInputReceived | UserInputTimeout)
        and e.execution_id is not None
    ]
    if not prompts:
        return {}
    rows = await con.fetch(_SHARED, list({e.execution_id for e in prompts}))
    shared = {r[0]: (r[1], json.loads(r[2]) if r[2] else {}) for r in rows}
    routes: dict[uuid.UUID, tuple[str, ...]] = {}
    for event in prompts:
        found = shared.get(event.execution_id)
        if found is None:
            continue
        workspace, pending = found
        if isinstance(event, UserInputRequired):
            assignees = event.data.assignees
        else:
            entry = pending.get(event.data.input_id) if isinstance(pending, dict) else None
            raw = entry[0].get("assignees") if entry else None
            assignees = None if raw is None else Assignees.model_validate(raw)
        if assignees is not None:
            routes[event.id] = inbox_channels(workspace, assignees)
    return routes


class PostgresEmitter:
    """An Emitter that writes each call in its own transaction from a pool, in an
    `outbox.emit` span (under the caller's, e.g. the activity's)."""

    def __init__(self, pool: asyncpg.Pool, tracer: Tracer | None = None) -> None:
        self._pool = pool
        self._tracer = tracer or trace.get_tracer(TRACER)

    async def emit(self, events: Sequence[Event]) -> int:
        with self._tracer.start_as_current_span("outbox.emit", attributes={"events": len(events)}):
            return await self._emit(events)

    async def _emit(self, events: Sequence[Event]) -> int:
        async with self._pool.acquire() as con:
            if len(events) <= BATCH_ROWS:
                # One statement is a transaction of its own; BEGIN and COMMIT would add two
                # round trips to a single event's write.
                return await write_events(con, events)
            async with con.transaction():
                return await write_events(con, events)


class NullEmitter:
    """An Emitter that drops everything: the 'emission off' baseline of the benchmarks."""

    async def emit(self, events: Sequence[Event]) -> int:
        return 0
