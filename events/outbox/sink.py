"""Where the sequencer hands each batch it numbered: the seam to a broker (flowmaestro.broker)."""

from __future__ import annotations

from typing import Protocol


class BatchSink(Protocol):
    """Receives every sequenced batch once, in order, right after its commit.

    `lines` are the batch's rows in the NOTIFY payload's line format (migration 0021), or None
    when the batch is empty of text that fits in `publish_bytes` (receivers then read it from
    Postgres). `token` is the state row's secret (receivers check a batch's origin with it).
    A sink never raises for an unreachable broker: Postgres stays the truth, receivers read
    what they miss."""

    @property
    def publish_bytes(self) -> int:
        """The largest batch text it carries."""
        ...

    async def sequenced(self, head: int, token: str, lines: str | None) -> None: ...
