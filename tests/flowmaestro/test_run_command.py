"""`flowmaestro run`: starts a flow for a user and prints the execution id; refuses bad
flows and inputs before anything starts."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import pytest
from click.testing import CliRunner

from flowmaestro.cli import main
from flowmaestro.commands.run import parse_inputs
from flowmaestro.database import with_database
from flowmaestro.flows.flow import load_flow
from tests.support.processes import FLOWMAESTRO, run
from tests.workflows.helpers import EXAMPLES, events_until, worker

if TYPE_CHECKING:
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer


async def test_run_starts_the_flow_and_prints_its_id(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer, database_dsn: str
) -> None:
    client = temporal_env.client
    async with worker(client, pool) as queue:
        env = {
            **os.environ,
            "FLOWMAESTRO_DATABASE_URL": database_dsn,
            "FLOWMAESTRO_TEMPORAL_ADDRESS": client.service_client.config.target_host,
            "FLOWMAESTRO_TASK_QUEUE": queue,
        }
        code, out, err = await run(
            FLOWMAESTRO,
            "run",
            str(EXAMPLES / "approval.yaml"),
            "--user",
            "u7",
            "--input",
            "amount=20",
            "--input",
            "requester=0042",
            env=env,
        )
        assert code == 0, err
        execution_id = out.strip()
        assert execution_id.startswith("ex_") and len(execution_id) == 35
        events = await events_until(pool, execution_id)
    row = await pool.fetchrow(
        "SELECT user_id, inputs::text FROM executions WHERE id = $1", execution_id
    )
    assert row is not None and row["user_id"] == "u7"
    assert events[0].envelope["data"]["inputs"] == {"amount": 20, "requester": "0042"}
    assert events[-1].envelope["data"]["outputs"] == {"decide": {"amount": 20, "approved": True}}


def test_a_bad_flow_file_is_refused_naming_the_node(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\nnodes:\n  - {id: a, type: transform, after: [b], config: {output: 1}}\n"
    )
    result = CliRunner().invoke(main, ["run", str(bad), "--user", "u1"])
    assert result.exit_code == 1
    assert f"error: {bad}: node 'a': after names no node 'b'" in result.output


def test_missing_inputs_are_refused_before_starting() -> None:
    result = CliRunner().invoke(main, ["run", str(EXAMPLES / "approval.yaml"), "--user", "u1"])
    assert result.exit_code == 1
    assert "input 'amount': required" in result.output


def test_inputs_parse_as_json_unless_declared_strings() -> None:
    flow = load_flow(EXAMPLES / "approval.yaml")
    assert parse_inputs(flow, ("amount=12.5", "requester=true")) == {
        "amount": 12.5,
        "requester": "true",
    }


async def _run_approval(env: dict[str, str]) -> tuple[int, str]:
    args = ("run", EXAMPLES / "approval.yaml", "--user", "u7", "--input", "amount=20")
    code, _, err = await run(FLOWMAESTRO, *args, env=env, timeout=120)
    return code, err


async def test_run_on_an_unmigrated_database_says_to_migrate(server_dsn: str) -> None:
    name = f"unmigrated_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    env = {
        **os.environ,
        "FLOWMAESTRO_DATABASE_URL": with_database(server_dsn, name),
        "FLOWMAESTRO_TEMPORAL_ADDRESS": "127.0.0.1:1",  # never reached: the check comes first
    }
    code, err = await _run_approval(env)
    assert code == 3, err
    assert "the database is not migrated" in err
    assert "hint: run `flowmaestro migrate` first" in err
    assert "Traceback" not in err


@pytest.mark.slow
async def test_run_on_an_unmigrated_embedded_database_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "FLOWMAESTRO_DATABASE_URL": "",
        "FLOWMAESTRO_STATE_DIR": str(tmp_path),
        "FLOWMAESTRO_TEMPORAL_ADDRESS": "127.0.0.1:1",
    }
    code, err = await _run_approval(env)
    assert code == 3, err
    assert "run `flowmaestro migrate`" in err
    pgdata = tmp_path / "pgdata"
    assert (pgdata / "PG_VERSION").is_file(), "the embedded server was created"
    assert not (pgdata / "postmaster.pid").exists(), "and it was stopped again"
