"""Our wheel installed into a fresh virtualenv beside a user's Temporal project whose root has
its own `workflows.py`, `activities.py`, `events.py` and `gateway.py`: the user's modules win
their imports, only `flowmaestro` is ours, and its public client and CLI work there."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import venv
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from flowmaestro.events import ExecutionCompleted, ExecutionStarted, NodeProgress
from tests.gateway.harness import SECRET, emit, own_execution, serve

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "tests" / "sample_project"
EXECUTION = "ex_sample_project"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def install_wheel(into: Path) -> Path:
    """A fresh virtualenv holding our wheel (built without the UI) and its dependencies."""
    wheels = into / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        env={**os.environ, "FLOWMAESTRO_SKIP_UI_BUILD": "1"},
        timeout=600,
    )
    (wheel,) = wheels.glob("flowmaestro_realtime-*.whl")
    env_dir = into / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True, timeout=600
    )
    return env_dir


def probe(env_dir: Path, env: dict[str, str]) -> tuple[str, str]:
    """Where the project's interpreter finds `flowmaestro`, and a token from our CLI there."""
    site = subprocess.run(
        [str(env_dir / "bin" / "python"), "-c", "import flowmaestro; print(flowmaestro.__file__)"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    minted = subprocess.run(
        [str(env_dir / "bin" / "flowmaestro"), "token", "--user", "alice"],
        cwd=PROJECT,
        env={**env, "FLOWMAESTRO_JWT_SECRET": SECRET},
        capture_output=True,
        text=True,
        check=True,
    )
    return site, minted.stdout.strip().splitlines()[-1]


def events_of(execution_id: str) -> list[ExecutionStarted | NodeProgress | ExecutionCompleted]:
    return [
        ExecutionStarted(
            user_id="alice",
            execution_id=execution_id,
            data={
                "workflow_id": "greeting",
                "status": "running",
                "started_at": "2026-01-01T00:00:00Z",
                "inputs": {},
            },
        ),
        NodeProgress(
            user_id="alice",
            execution_id=execution_id,
            data={"node_id": "compose", "progress": 50, "step": "half"},
        ),
        ExecutionCompleted(
            user_id="alice", execution_id=execution_id, data={"outputs": {}, "duration_ms": 5}
        ),
    ]


async def test_a_user_project_beside_the_installed_wheel(
    tmp_path: Path, pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    env_dir = await asyncio.to_thread(install_wheel, tmp_path)
    python = env_dir / "bin" / "python"
    # Nothing of the checkout may leak in: the project's root is its only source path.
    clean = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    clean["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{clean['PATH']}"

    site, token = await asyncio.to_thread(probe, env_dir, clean)
    assert Path(site).is_relative_to(env_dir), site
    top_level = {p.name for p in Path(site).parents[1].iterdir()}
    assert not top_level & {"events", "workflows", "gateway", "activities", "security", "bench"}

    await own_execution(pool, EXECUTION, "alice")
    await emit(pool, *events_of(EXECUTION))
    async with serve(pool, temporal_env.client) as gateway:
        watcher = await asyncio.create_subprocess_exec(
            str(python),
            "watch_execution.py",
            gateway.url,
            token,
            EXECUTION,
            cwd=PROJECT,
            env=clean,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(watcher.communicate(), 120)
    assert watcher.returncode == 0, err.decode()
    assert out.decode().splitlines() == [
        "own modules: ok",
        "execution:started",
        "node:progress",
        "execution:completed",
    ]
