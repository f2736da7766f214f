from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import pytest

from events.outbox import Sequencer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def running(sequencer: Sequencer) -> AsyncIterator[Sequencer]:
    """Run `sequencer` in a task for the duration of the block."""
    task = asyncio.create_task(sequencer.run())
    try:
        yield sequencer
    finally:
        sequencer.stop()
        await asyncio.wait_for(task, 10)


@pytest.fixture
async def sequencer(database_dsn: str) -> AsyncIterator[Sequencer]:
    async with running(Sequencer(database_dsn, poll_interval=0.5)) as s:
        await asyncio.wait_for(s.active.wait(), 10)
        yield s
