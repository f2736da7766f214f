"""Server-sent events of any set of channels the caller may see, resumed by one position.

Positions are global and gap-free, so one `Last-Event-ID` resumes every channel of a stream
at once, on any gateway: a stream is rebuilt from Postgres (the replay) and the serving
process's own tail (live), and needs no state kept between requests, no sticky session.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from starlette.responses import StreamingResponse

from flowmaestro.gateway.errors import GatewayError, error_payload
from flowmaestro.gateway.query import position_of

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence
    from typing import Any

    from flowmaestro.events.outbox import StoredEvent
    from flowmaestro.gateway.budgets import Held
    from flowmaestro.gateway.clock import Clock
    from flowmaestro.gateway.hub import Hub
    from flowmaestro.gateway.replay_budget import ReplaySource

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


class HeldStream(StreamingResponse):
    """An event stream that gives back what it holds (the user's stream and replay budgets)
    when the response ends, however it ends: even a stream whose client left before its
    first byte (its generator never ran) releases them."""

    def __init__(self, content: AsyncIterator[bytes], *held: Held | None) -> None:
        super().__init__(content, media_type="text/event-stream", headers=HEADERS)
        self._held = held

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            for held in self._held:
                if held is not None:
                    held.release()


def refusal_frame(exc: GatewayError) -> bytes:
    """A refusal after the stream began (a budget ran out during its replay); it ends."""
    data = json.dumps(error_payload(exc.code, exc.message, exc.details), separators=(",", ":"))
    return f"event: error\ndata: {data}\n\n".encode()


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
    reader: ReplaySource,
    channels: Sequence[str],
    after: int | None,
    page: int,
    *,
    announce: bool = True,
    keepalive: float = KEEPALIVE_SECONDS,
    expires_at: float | None = None,
    clock: Clock,
    replay_held: Held | None = None,
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
            try:
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
            except GatewayError as exc:
                # Over the replayed-bytes budget: what was sent stands (`Last-Event-ID`
                # resumes after it once the budget allows).
                yield refusal_frame(exc)
                return
            finally:
                if replay_held is not None:
                    replay_held.release()
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
