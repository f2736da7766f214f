"""The outbox tests run on a Postgres cluster of this session's own.

A row is final once the cluster-wide xmin passes its transaction, so any transaction with an
id anywhere on a shared server (another test session's, another database's) holds the
sequencer back, and a test asserting what one batch numbers, or which backend is the blocker,
would see it. `running` stays importable from here."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from flowmaestro.database import create_migrated_database
from tests.conftest import fresh_database, running
from tests.faults.postgres import UNAVAILABLE, Cluster

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

__all__ = ["running"]

TEMPLATE = "fm_outbox_template"


@pytest.fixture(scope="session")
async def outbox_server_dsn() -> AsyncIterator[str]:
    """The maintenance DSN of the session's own cluster, with a migrated template."""
    if UNAVAILABLE is not None:
        pytest.skip(f"no cluster of the session's own: {UNAVAILABLE}")
    cluster = Cluster()
    try:
        await asyncio.to_thread(cluster.init)
        await asyncio.to_thread(cluster.start)
        await create_migrated_database(cluster.server_dsn, TEMPLATE)
        yield cluster.server_dsn
    finally:
        await asyncio.to_thread(cluster.destroy)


@pytest.fixture
async def database_dsn(outbox_server_dsn: str) -> AsyncIterator[str]:
    """A fresh migrated database on the session's own cluster, dropped afterwards."""
    async with fresh_database(outbox_server_dsn, TEMPLATE) as dsn:
        yield dsn
