"""Reading sequenced events back: by position, optionally for one channel, and as a live tail."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg
import orjson

from flowmaestro.events.outbox.channels import SEQUENCED
from flowmaestro.events.union import EVENT_ADAPTER
from flowmaestro.waiting import wait_set

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Sequence

    from flowmaestro.events.catalogue import Event
    from flowmaestro.events.outbox.connection import Connection


class StoredEvent:
    """One sequenced event. `json` is its envelope as it goes on the wire (camelCase, with
    `position`), made by splicing the position into the stored text: the fan-out never decodes
    and re-encodes an envelope. `envelope` decodes it on first use (for HTTP, snapshots)."""

    __slots__ = ("_envelope", "channels", "created_at", "json", "position", "type")

    def __init__(
        self, position: int, type: str, channels: tuple[str, ...], json: str, created_at: float
    ) -> None:
        self.position = position
        self.type = type
        self.channels = channels
        self.json = json
        self.created_at = created_at
        """When the row was written (epoch seconds): the commit-to-emit metric's start."""
        self._envelope: dict[str, Any] | None = None

    @property
    def envelope(self) -> dict[str, Any]:
        if self._envelope is None:
            self._envelope = orjson.loads(self.json)
        return self._envelope

    def event(self) -> Event:
        return EVENT_ADAPTER.validate_python(self.envelope)

    def __repr__(self) -> str:
        return f"StoredEvent({self.position}, {self.type!r}, {self.channels!r})"


@dataclass(frozen=True, slots=True)
class ReadResult:
    """A page of events after a position; `recovered` is False when history was pruned."""

    events: list[StoredEvent]
    recovered: bool
    head: int


# The envelope's text (jsonb output) is sent as it is, with the position spliced in.
_COLUMNS = (
    "o.position, o.type, o.channels::text, o.envelope::text,"
    " extract(epoch FROM o.created_at)::float8"
)
_ALL = f"""
SELECT {_COLUMNS} FROM event_outbox o
WHERE o.position > $1 ORDER BY o.position LIMIT $2
"""
_CHANNEL = f"""
SELECT {_COLUMNS}
FROM event_channel_positions c JOIN event_outbox o ON o.position = c.position
WHERE c.channel = $3 AND c.position > $1 ORDER BY c.position LIMIT $2
"""
# Several channels: a merge of one index range per channel, each cut at the page, so a page
# reads about a page of index entries whatever the history (a scan of `channel = ANY(...)`
# would gather every match after `$1` and sort it). The merge yields an event in two of the
# channels twice in a row: `lag` drops the second. Statements are built for a power of two of
# channels (the missing ones NULL, matching nothing): a few shapes, each planned once, and
# short (`cp`) so that asyncpg caches even the largest (it caches statements up to 15 KiB).
_BRANCH = "(SELECT at FROM cp WHERE channel = {names}[{i}] AND at > $1 ORDER BY at LIMIT $2)"
_MERGED = """
WITH cp (channel, at) AS NOT MATERIALIZED (SELECT channel, position FROM event_channel_positions)
SELECT {columns} FROM event_outbox o
WHERE o.position = ANY(ARRAY(
    SELECT at FROM (
        SELECT at, lag(at) OVER (ORDER BY at) AS previous FROM ({branches}) merged
    ) m
    WHERE previous IS DISTINCT FROM at ORDER BY at LIMIT $2
))
ORDER BY o.position
"""
# A channel's page walks its index range in order and stops at the page. A bitmap scan, the
# planner's pick when it takes a channel for small (or recent index pages for not all-visible),
# reads every match after the cursor first: a cost that grows with the history.
ORDERED_SCANS = "SET LOCAL enable_bitmapscan = off; SET LOCAL plan_cache_mode = force_generic_plan"
_STATE = "SELECT last_position, pruned_through FROM outbox_sequencer"
# What a carried batch must show to be believed (migration 0021).
_TOKEN = "SELECT notify_token FROM outbox_sequencer"
# Notifications held for a tail that has not taken them yet; past this it reads instead.
_NOTES_HELD = 64


def splice(position: int, envelope: str) -> str:
    """The stored envelope text (an object without `position`) with `position` first."""
    return f'{{"position": {position}, {envelope[1:]}' if envelope != "{}" else envelope


def _stored(row: asyncpg.Record) -> StoredEvent:
    position = row[0]
    return StoredEvent(
        position, row[1], tuple(orjson.loads(row[2])), splice(position, row[3]), row[4]
    )


class OutboxReader:
    """Reads sequenced events. Tails listen on their own connection; reads use the pool."""

    def __init__(self, pool: asyncpg.Pool, *, poll_interval: float = 1.0) -> None:
        self._pool = pool
        self._poll_interval = poll_interval

    async def head(self) -> int:
        """The highest position assigned so far (0 before the first event)."""
        return int(await self._pool.fetchval("SELECT last_position FROM outbox_sequencer"))

    async def token(self) -> str:
        """The state row's secret: a carried batch (a NOTIFY, a broker message) shows it."""
        return str(await self._pool.fetchval(_TOKEN))

    async def trace_contexts(self, positions: Sequence[int]) -> dict[int, str]:
        """The traceparents recorded with these events (those written under a span)."""
        rows = await self._pool.fetch(
            "SELECT position, trace_context FROM event_outbox"
            " WHERE position = ANY($1::bigint[]) AND trace_context IS NOT NULL",
            list(positions),
        )
        return {row[0]: row[1] for row in rows}

    async def read_after(
        self, position: int, channel: str | Sequence[str] | None = None, limit: int = 1000
    ) -> list[StoredEvent]:
        """Events with a position greater than `position` (of `channel`, or of any of several
        channels), in position order, at most `limit`."""
        if channel is None:
            rows = await self._pool.fetch(_ALL, position, limit)
        else:
            async with self._pool.acquire() as con, con.transaction():
                rows = await channel_rows(con, position, channel, limit)
        return [_stored(r) for r in rows]

    async def replay(
        self, position: int, channel: str | Sequence[str] | None, limit: int
    ) -> ReadResult:
        """Like `read_after`, plus whether the history since `position` is complete."""
        async with self._pool.acquire() as con, con.transaction(isolation="repeatable_read"):
            state = await con.fetchrow(_STATE)
            assert state is not None
            head, pruned_through = state
            if channel is None:
                rows = await con.fetch(_ALL, position, limit)
            else:
                rows = await channel_rows(con, position, channel, limit)
        return ReadResult([_stored(r) for r in rows], position >= pruned_through, int(head))

    async def tail(self, after: int, batch: int = 1000) -> AsyncIterator[StoredEvent]:
        """Every event with a position greater than `after`, forever, in order, each once."""
        async with contextlib.aclosing(self.pages(after, batch)) as pages:
            async for page in pages:
                for stored in page:
                    yield stored

    async def pages(self, after: int, batch: int = 1000) -> AsyncGenerator[list[StoredEvent], None]:
        """`tail` a page at a time (as read together: the fan-out flushes batched frames after
        each page). Pages are never empty.

        Wakes on the sequencer's NOTIFY (listened on a connection of its own). A notification
        that carries its batch and follows on from the last position is the next page, with no
        read; any other (a batch too large to carry, a gap after a lost notification, the
        start) sends the tail to read the outbox, as does a poll every `poll_interval`: a lost
        notification delays events but never loses them.
        """
        notes: deque[str] = deque()
        wake = asyncio.Event()
        listener = await self._pool.acquire()

        def on_sequenced(_con: object, _pid: int, _channel: str, payload: object) -> None:
            if len(notes) >= _NOTES_HELD:
                notes.clear()  # far behind: one read covers them all ("" sends it to read)
                payload = ""
            notes.append(str(payload))
            wake.set()

        try:  # from here: a tail cancelled mid-LISTEN releases its connection too
            await listener.add_listener(SEQUENCED, on_sequenced)
            last, read, token = after, True, None
            while True:
                wake.clear()
                while notes and not read:
                    note = sequenced(notes.popleft())
                    if note is not None and note.head <= last:
                        continue  # already read
                    if note is not None and note.follows(last, token, batch):
                        last = note.head
                        yield note.rows
                    else:
                        read = True
                if read:
                    # Every notification delivered so far is of a batch this read sees.
                    notes.clear()
                    if token is None:  # set once by the migration: read it with the first page
                        token = await self.token()
                    page = await self.read_after(last, None, batch)
                    if page:
                        last = page[-1].position
                        yield page
                    read = len(page) == batch
                if not read and not notes and not await wait_set(wake, self._poll_interval):
                    if listener.is_closed():
                        # Its backend was terminated while reads still work: without
                        # this the tail would run on the fallback poll for good.
                        raise asyncpg.InterfaceError("the tail's listener closed") from None
                    read = True
        finally:
            with contextlib.suppress(Exception):
                await listener.remove_listener(SEQUENCED, on_sequenced)
            await self._pool.release(listener)


@dataclass(frozen=True, slots=True)
class Sequenced:
    """The sequencer's notification: the new head, and the batch when it carried it (with
    the state row's token)."""

    head: int
    token: str | None
    rows: list[StoredEvent]

    def follows(self, last: int, token: str | None, batch: int) -> bool:
        """Whether these rows are the next page after `last`: carried with the right token,
        at most `batch` of them, numbered last + 1 up to the head, one after the other."""
        return (
            bool(self.rows)
            and token is not None
            and self.token == token
            and len(self.rows) <= batch
            and self.head == last + len(self.rows)
            and all(s.position == last + 1 + i for i, s in enumerate(self.rows))
        )


def sequenced(payload: str) -> Sequenced | None:
    """Parse the sequencer's notification (migration 0021); None when it is not one."""
    first, _, lines = payload.partition("\n")
    head, _, token = first.partition("\t")
    try:
        return Sequenced(int(head), token or None, parse_lines(lines))
    except ValueError:  # orjson's errors are ValueErrors too
        return None


def parse_lines(lines: str) -> list[StoredEvent]:
    """A batch's rows from their lines (migration 0021's format: position, created_at, type,
    channels, envelope, tab-separated; one per line). ValueError when malformed."""
    rows = []
    for line in lines.split("\n") if lines else ():
        position, created_at, type, channels, envelope = line.split("\t", 4)
        at = int(position)
        names = orjson.loads(channels)
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"channels of position {at} are not a list of names")
        rows.append(StoredEvent(at, type, tuple(names), splice(at, envelope), float(created_at)))
    return rows


async def channel_rows(
    con: Connection, position: int, channel: str | Sequence[str], limit: int
) -> list[asyncpg.Record]:
    """The rows of a page of one channel or several, read in `con`'s open transaction."""
    await con.execute(ORDERED_SCANS)
    query, names = channel_query(channel)
    return await con.fetch(query, position, limit, names)


def channel_query(channel: str | Sequence[str]) -> tuple[str, str | list[str]]:
    """The query for one channel (a plain index range) or several, and its third argument
    (after the position and the limit). Run it after `ORDERED_SCANS`."""
    if isinstance(channel, str):
        return _CHANNEL, channel
    names = list(dict.fromkeys(channel))
    return _merged(1 << max(1, len(names) - 1).bit_length()), names


@functools.cache
def _merged(branches: int) -> str:
    """The statement merging up to `branches` channels."""
    return _MERGED.format(
        columns=_COLUMNS,
        branches=" UNION ALL ".join(
            # The first names the array's type; the others follow it.
            _BRANCH.format(names="($3::text[])" if i == 1 else "$3", i=i)
            for i in range(1, branches + 1)
        ),
    )
