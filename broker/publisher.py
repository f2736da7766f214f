"""The sequencer's side: each batch it numbers is published once, right after its commit."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from flowmaestro.broker.errors import BrokerUnavailable
from flowmaestro.broker.link import Link, open_link
from flowmaestro.broker.message import encode
from flowmaestro.events.outbox import Availability

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

# Room for the head and the signature in front of the lines.
_HEADER_BYTES = 128


class BrokerPublisher:
    """A `BatchSink` over a `Link`. Publishing never blocks or fails sequencing: while the
    broker is away a batch is not sent (gateways read it from Postgres, which they tail
    meanwhile); one log line per change of the broker's state. Run `run()` alongside the
    sequencer."""

    def __init__(self, link: Link) -> None:
        self._link = link
        self._connected = False
        self.state = Availability("broker (publishing)")
        self.published = 0
        self.unsent = 0
        """Batches not published (the broker was away): receivers read them."""

    @property
    def publish_bytes(self) -> int:
        return self._link.max_payload - _HEADER_BYTES

    async def run(self) -> None:
        await self._link.run(None, self._on_state)

    def _on_state(self, up: bool, reason: str | None) -> None:
        self._connected = up
        if up:
            self.state.back()
        else:
            self.state.lost(reason or "disconnected")

    async def sequenced(self, head: int, token: str, lines: str | None) -> None:
        if not self._connected:
            self.unsent += 1
            return
        try:
            await self._link.publish(encode(head, token, lines))
        except BrokerUnavailable as exc:
            self.unsent += 1
            self.state.lost(exc)
        else:
            self.published += 1


@contextlib.asynccontextmanager
async def publishing(url: str | None, channel: str) -> AsyncIterator[BrokerPublisher | None]:
    """A publisher connected for the block (a sequencer's `sink`); None without a broker."""
    if url is None:
        yield None
        return
    publisher = BrokerPublisher(open_link(url, channel))
    task = asyncio.create_task(publisher.run())
    try:
        yield publisher
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
