"""An upgrade with no downtime: the previous release's gateway and worker (its source, from
the commit in `previous_release`, run from a tree of its own) keep serving while this
release's migrations apply, and afterwards. Every execution started before, during and after
completes; a client following the user's channel through the old gateway gets every event
once, in order."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
import pytest

from flowmaestro.client import Client
from flowmaestro.database import with_database
from flowmaestro.migrate import migrate
from tests.gateway.harness import token
from tests.gateway.process import GatewayProcess, gateway_env
from tests.support.processes import FLOWMAESTRO, Child

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parents[2]
PREVIOUS = (Path(__file__).with_name("previous_release")).read_text().strip()

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

FLOW = {
    "name": "upgrade",
    "inputs": {"n": {"type": "number"}},
    "nodes": [
        {"id": "begin", "type": "transform", "config": {"output": "{{ inputs.n }}"}},
        {
            "id": "wait",
            "type": "delay",
            "after": ["begin"],
            "config": {"seconds": 3, "reports": 6},
        },
        {"id": "end", "type": "transform", "after": ["wait"], "config": {"output": "done"}},
    ],
}


@pytest.fixture(scope="module")
def previous(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The previous release's source tree (git archive of the pinned commit)."""
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("the upgrade test needs git and this repository's history")
    found = subprocess.run(
        [git, "-C", str(ROOT), "cat-file", "-e", f"{PREVIOUS}^{{commit}}"], check=False
    )
    if found.returncode != 0:
        pytest.skip(f"the previous release {PREVIOUS[:12]} is not in this clone's history")
    tree = tmp_path_factory.mktemp("previous")
    archive = subprocess.run(
        [git, "-C", str(ROOT), "archive", PREVIOUS], check=True, capture_output=True, timeout=120
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True, timeout=120)
    return tree


@pytest.fixture
async def old_database(server_dsn: str, previous: Path) -> AsyncIterator[str]:
    """A database migrated by the previous release's own `flowmaestro migrate`."""
    name = f"fm_upgrade_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = with_database(server_dsn, name)
    try:
        migrated = await asyncio.create_subprocess_exec(
            str(FLOWMAESTRO),
            "migrate",
            env={**os.environ, "PYTHONPATH": str(previous), "FLOWMAESTRO_DATABASE_URL": dsn},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(migrated.communicate(), 120)
        assert migrated.returncode == 0, output.decode()
        yield dsn
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def ended(envelopes: list[dict[str, Any]], ids: set[str]) -> bool:
    done = {e["executionId"] for e in envelopes if e["type"] == "execution:completed"}
    return ids <= done


async def test_the_previous_release_runs_on_while_the_new_migrations_apply(
    old_database: str, previous: Path, temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    queue = f"upgrade-{uuid.uuid4().hex[:8]}"
    old_env = {
        **gateway_env(old_database, temporal_env.client, queue),
        "PYTHONPATH": str(previous),
        "FLOWMAESTRO_GATEWAY_WORKERS": "1",
    }
    worker = await Child(
        FLOWMAESTRO, "worker", env={**os.environ, **old_env}, name="old worker"
    ).start()
    envelopes: list[dict[str, Any]] = []
    changed = asyncio.Condition()
    pool = await asyncpg.create_pool(old_database, min_size=1, max_size=4)
    try:
        async with (
            GatewayProcess(old_env) as gateway,
            Client(gateway.url, token("u1")) as client,
            httpx.AsyncClient(
                base_url=gateway.url, headers={"Authorization": f"Bearer {token('u1')}"}
            ) as http,
        ):

            async def follow() -> None:
                async for envelope in client.envelopes("user:u1", after=0):
                    async with changed:
                        envelopes.append(envelope)
                        changed.notify_all()

            async def start(n: int) -> str:
                started = await http.post(
                    "/api/executions", json={"flow": FLOW, "inputs": {"n": n}}, timeout=30
                )
                assert started.status_code == 201, started.text
                return str(started.json()["executionId"])

            follower = asyncio.create_task(follow())
            before = {await start(n) for n in range(3)}
            # The new release's migrations apply while those run on the old release.
            async with pool.acquire() as con, pool.acquire() as watch:
                applied = await migrate(con, watch=watch)
            # previous_release names the last release before these migrations (bump it at a
            # release, to the commit the release was cut from).
            assert applied, "no migration since previous_release: nothing to upgrade across"
            during = {await start(n) for n in range(3, 5)}
            async with asyncio.timeout(120), changed:
                await changed.wait_for(lambda: ended(envelopes, before | during))
            after = {await start(n) for n in range(5, 7)}
            async with asyncio.timeout(120), changed:
                await changed.wait_for(lambda: ended(envelopes, before | during | after))
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)

        ids = before | during | after
        statuses = await pool.fetch("SELECT id, status FROM executions WHERE id = ANY($1)", ids)
        assert {r["status"] for r in statuses} == {"completed"}, statuses
        assert not [e for e in envelopes if e["type"] == "execution:failed"]
        positions = [e["position"] for e in envelopes]
        expected = [
            r[0]
            for r in await pool.fetch(
                "SELECT position FROM event_channel_positions WHERE channel = 'user:u1'"
                " AND position <= $1 ORDER BY 1",
                max(positions),
            )
        ]
        assert positions == expected, "an event lost, doubled or out of order"
        assert gateway.count("Traceback") == 0, gateway.output
    finally:
        await pool.close()
        await worker.stop()
    assert worker.count("Traceback") == 0, worker.output
