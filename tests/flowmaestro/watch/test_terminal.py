"""`flowmaestro watch` in a terminal (a pty) against a real worker, gateway, Temporal and
Postgres: while a prompt waits, the node table keeps moving, and the answer typed goes in."""

from __future__ import annotations

import asyncio
import os
import pty
import re
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from flowmaestro.gateway.auth import mint_token
from tests.web.stack import Stack

if TYPE_CHECKING:
    from temporalio.testing import WorkflowEnvironment

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

# A prompt and, beside it, a node that keeps changing while the prompt waits.
FLOW = {
    "name": "watch-live",
    "nodes": [
        {
            "id": "ask",
            "type": "user_input",
            "config": {"prompt": "Go ahead?", "input_type": "boolean", "timeout_seconds": 600},
        },
        {"id": "slow", "type": "delay", "config": {"seconds": 3, "reports": 6}},
    ],
}
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the other side (the watch process) has closed
        return b""


async def test_the_table_moves_while_a_prompt_waits_and_the_answer_goes_in(
    database_dsn: str, temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    secret = uuid.uuid4().hex
    address = temporal_env.client.service_client.config.target_host
    async with Stack(database_dsn, address, secret, tmp_path) as stack:
        token = mint_token(secret, "watcher", 600)
        async with httpx.AsyncClient(
            base_url=stack.base_url, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            started = await http.post("/api/executions", json={"flow": FLOW})
            assert started.status_code == 201, started.text
        execution_id = started.json()["executionId"]
        master, slave = pty.openpty()
        watch = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("flowmaestro")),
            *("watch", execution_id, "--url", stack.base_url, "--token", token),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={
                **os.environ,
                # The stack's secret (watch mints its own tokens when it has one), and no
                # running `dev` of this machine's state dir to borrow from.
                "FLOWMAESTRO_JWT_SECRET": secret,
                "FLOWMAESTRO_STATE_DIR": str(tmp_path / "state"),
                "COLUMNS": "120",
                "LINES": "40",
                "TERM": "xterm",
            },
        )
        os.close(slave)
        screen = ""
        loop = asyncio.get_running_loop()

        async def until(pattern: str, start: int = 0) -> int:
            nonlocal screen
            while (found := ANSI.sub("", screen).find(pattern, start)) < 0:
                chunk = await loop.run_in_executor(None, _read, master)
                assert chunk, f"watch ended before {pattern!r}: {screen[-2000:]}"
                screen += chunk.decode(errors="replace")
            return found

        try:
            async with asyncio.timeout(120):
                asked = await until("Go ahead? [y/n]")
                # The table is redrawn while the prompt waits: the delay node completes.
                await until("completed", asked)
                os.write(master, b"y\r")
                await until("outputs:")
                assert await watch.wait() == 0, screen[-2000:]
        finally:
            if watch.returncode is None:
                watch.kill()
                await watch.wait()
            os.close(master)
    plain = ANSI.sub("", screen)
    assert "waiting for input: Go ahead?" not in plain, "the prompt is drawn once, as a question"
