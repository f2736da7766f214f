"""`flowmaestro kb create` and `flowmaestro kb ingest` as a user runs them (subprocesses),
against real Postgres and a real Temporal dev server with a worker in the test."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.activities.kb.documents import MARKDOWN
from tests.support.processes import FLOWMAESTRO, Finished, run
from tests.workflows.helpers import worker

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer


async def flowmaestro(env: dict[str, str], *args: str) -> Finished:
    return await run(FLOWMAESTRO, *args, env={**os.environ, **env})


@pytest.mark.slow
async def test_create_then_ingest_a_file(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    database_dsn: str,
    sequencer: Sequencer,
    tmp_path: Path,
) -> None:
    client = temporal_env.client
    document = tmp_path / "handbook.md"
    document.write_text(MARKDOWN)
    async with worker(client, pool) as queue:
        env = {
            "FLOWMAESTRO_DATABASE_URL": database_dsn,
            "FLOWMAESTRO_TEMPORAL_ADDRESS": client.service_client.config.target_host,
            "FLOWMAESTRO_TASK_QUEUE": queue,
        }
        code, out, err = await flowmaestro(
            env, "kb", "create", "Handbook", "--user", "u1", "--chunk-size", "300"
        )
        assert code == 0, err
        kb_id = out.strip()
        assert kb_id.startswith("kb_")
        code, out, err = await flowmaestro(
            env, "kb", "ingest", kb_id, str(document), "--user", "u1"
        )
        assert code == 0, err
        document_id, counts = out.strip().splitlines()
        chunks = await pool.fetchval(
            "SELECT count(*) FROM kb_chunks WHERE document_id = $1", document_id
        )
        assert chunks > 1
        assert counts == f"{chunks} chunks, {chunks} embeddings"
        assert "embedding: 100%" in err
        assert err.rstrip().endswith("storage: 100%"), "the last progress line is printed"

        code, out, err = await flowmaestro(
            env, "kb", "ingest", kb_id, str(document), "--user", "u2"
        )
        assert code == 1
        assert f"no knowledge base {kb_id!r} for user 'u2'" in err
    assert uuid.UUID(document_id.removeprefix("doc_"))
