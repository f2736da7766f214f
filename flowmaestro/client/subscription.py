"""One channel followed by the client: its position cursor, and the events held while a
(re)subscribe replays, handed out once each in position order."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowmaestro.events.channels import execution_channel

if TYPE_CHECKING:
    from collections.abc import Callable

    from flowmaestro.events import Event

CHANNEL_KINDS = ("user", "execution", "agent", "kb")


def channel_of(target: str) -> str:
    """`target` as a channel name: a channel (`kb:...`) as is, an execution id as its channel."""
    kind, sep, _ = target.partition(":")
    if sep and kind in CHANNEL_KINDS:
        return target
    return execution_channel(target)


@dataclass(frozen=True, slots=True)
class Delivery:
    event: Event
    envelope: dict[str, Any]
    """The envelope as the gateway sent it (camelCase JSON)."""


class Subscription:
    """Events are offered in arrival order; while `held` (between a connect and the subscribe's
    ack) they wait, then are released sorted. A position at or below the cursor is never
    handed out again, which dedupes across reconnects and between channels' copies."""

    def __init__(
        self, channel: str, after: int | None, on_ack: Callable[[int], None] | None = None
    ) -> None:
        self.channel = channel
        self._on_ack = on_ack
        self.cursor = after
        """The last position handed out (None: not yet subscribed, live from the ack)."""
        self.generation = -1
        self.recovered = True
        self.resumable = False
        """Acknowledged once: after a drop, the socket's one cursor resumes it."""
        self.queue: asyncio.Queue[Delivery | BaseException] = asyncio.Queue()
        self._held: list[Delivery] | None = None

    def hold(self, generation: int) -> None:
        """A new connection (`generation`) is about to subscribe again."""
        self.generation = generation
        self._held = []

    def offer(self, delivery: Delivery) -> None:
        if self._held is not None:
            self._held.append(delivery)
        else:
            self._hand_out(delivery)

    def acked(self, generation: int, position: int, recovered: bool) -> None:
        """The subscribe of `generation` was acknowledged at `position`: everything of the
        channel up to it has been sent before the ack (replayed or held)."""
        if generation != self.generation or self._held is None:
            return  # the ack of a connection that has since been replaced
        held, self._held = self._held, None
        if self.cursor is None:
            self.cursor = position  # a live subscription starts at its ack
        self.recovered = recovered
        self.resumable = True
        for delivery in sorted(held, key=lambda d: _position(d.event)):
            self._hand_out(delivery)
        self.cursor = max(self.cursor, position)
        if self._on_ack is not None:
            self._on_ack(self.cursor)

    def fail(self, error: BaseException) -> None:
        self.queue.put_nowait(error)

    def _hand_out(self, delivery: Delivery) -> None:
        position = _position(delivery.event)
        if self.cursor is not None and position <= self.cursor:
            return
        self.cursor = position
        self.queue.put_nowait(delivery)


def _position(event: Event) -> int:
    return event.position or 0
