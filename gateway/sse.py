"""Server-sent events of any set of channels the caller may see, resumed by one position.

Positions are global and gap-free, so one `Last-Event-ID` resumes every channel of a stream
at once, on any gateway: a stream is rebuilt from Postgres (the replay) and the serving
process's own tail (live), and needs no state kept between requests, no sticky session.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from flowmaestro.gateway.errors import GatewayError
from flowmaestro.gateway.query import position_of

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from flowmaestro.events.outbox import OutboxReader, StoredEvent
    from flowmaestro.gateway.clock import Clock
    from flowmaestro.gateway.hub import Hub

KEEPALIVE_SECONDS = 15.0
EXPIRED_FRAME = (
    b'event: auth:expired\ndata: {"reason":"token_expired",'
    b'"message":"the token has expired: reconnect with a fresh one"}\n\n'
)
HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
"""No caching, and no buffering in nginx (deploy/nginx.conf), or events would arrive late."""


def start_position(last_event_id: str | None, after: int | None) -> int | None:
    """Where a stream resumes: `Last-Event-ID` (a position) wins over `?after=`."""
    if last_event_id is None:
        return after
    try:
        return position_of(last_event_id)
    except ValueError:
        raise GatewayError("bad_request", "Last-Event-ID must be a position (digits)") from None


def frame(stored: StoredEvent) -> bytes:
    # The stored JSON text has no raw newline (jsonb output escapes them in strings).
    return f"id: {stored.position}\nevent: {stored.type}\ndata: {stored.json}\n\n".encode()


def ready_frame(channels: Sequence[str], position: int, recovered: bool) -> bytes:
    """Sent once the replay is done (like a subscribe's ack); its id moves `Last-Event-ID` to
    `position`, so a reconnect does not replay what the stream already covered."""
    data = json.dumps(
        {"channels": list(channels), "position": position, "recovered": recovered},
        separators=(",", ":"),
    )
    return f"id: {position}\nevent: ready\ndata: {data}\n\n".encode()


async def stream(
    hub: Hub,
    reader: OutboxReader,
    channels: Sequence[str],
    after: int | None,
    page: int,
    *,
    announce: bool = True,
    keepalive: float = KEEPALIVE_SECONDS,
    expires_at: float | None = None,
    clock: Clock,
) -> AsyncIterator[bytes]:
    """Replay the channels' events in (after, live position] from Postgres, then follow the
    live feed: every event of any of them once, in position order. With `announce`, a `ready`
    event follows the replay; without it, only a pruned history is said (`recovered`).
    At `expires_at` (the token's `exp`, on `clock`) the stream says `auth:expired` and ends:
    reconnect with a fresh token and `Last-Event-ID`."""
    selection: str | Sequence[str] = channels[0] if len(channels) == 1 else channels
    with hub.listen(*channels) as (upto, listener):
        last = upto if after is None else after
        recovered = True
        if after is not None:
            replay = await reader.replay(after, selection, page)
            recovered = replay.recovered
            if not recovered and not announce:
                yield b"event: recovered\ndata: false\n\n"
            while True:
                batch = [e for e in replay.events if e.position <= upto]
                for stored in batch:
                    last = stored.position
                    yield frame(stored)
                if len(replay.events) < page or len(batch) < len(replay.events):
                    break
                replay = await reader.replay(last, selection, page)
            last = max(last, upto)
        if announce:
            yield ready_frame(channels, last, recovered)
        expiry = asyncio.Event()
        timer = None if expires_at is None else clock.call_at(expires_at, expiry.set)
        expired = asyncio.ensure_future(expiry.wait())
        got: asyncio.Future[StoredEvent] | None = None
        try:
            while not listener.overflowed:
                if expiry.is_set():
                    yield EXPIRED_FRAME
                    return
                got = asyncio.ensure_future(listener.queue.get())
                waited: set[asyncio.Future[Any]] = {got, expired}
                await asyncio.wait(waited, timeout=keepalive, return_when=asyncio.FIRST_COMPLETED)
                if not got.done():
                    got.cancel()  # an event not taken yet stays in the queue
                    if not expiry.is_set():
                        yield b": keep-alive\n\n"
                    continue
                stored = got.result()
                if stored.position > last:
                    last = stored.position
                    yield frame(stored)
        finally:
            expired.cancel()
            if got is not None and not got.done():
                got.cancel()
            if timer is not None:
                timer.cancel()
