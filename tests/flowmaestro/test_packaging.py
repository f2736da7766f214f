"""A wheel carries the built UI when npm is there at build time, and builds without it too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def build_wheel(out: Path, path: str) -> zipfile.ZipFile:
    env = {**os.environ, "PATH": path}
    env.pop("FLOWMAESTRO_SKIP_UI_BUILD", None)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
        env=env,
        timeout=840,
    )
    (wheel,) = out.glob("flowmaestro_realtime-*.whl")
    return zipfile.ZipFile(wheel)


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed here")
def test_a_wheel_built_with_npm_carries_the_ui_and_the_gateway_finds_it(tmp_path: Path) -> None:
    with build_wheel(tmp_path / "wheel", os.environ["PATH"]) as wheel:
        names = wheel.namelist()
        assert "flowmaestro/gateway/ui/index.html" in names
        assert any(
            n.startswith("flowmaestro/gateway/ui/assets/") and n.endswith(".js") for n in names
        )
        wheel.extractall(tmp_path / "site")
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "from flowmaestro.settings import Settings; from flowmaestro.webui import ui_dir; "
            "print(ui_dir(Settings()))",
        ],
        env={
            **{k: v for k, v in os.environ.items() if k != "FLOWMAESTRO_WEB_DIST"},
            "PYTHONPATH": str(tmp_path / "site"),
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(found.stdout.strip()) == tmp_path / "site" / "flowmaestro" / "gateway" / "ui"


def test_a_wheel_builds_without_npm_and_has_no_ui(tmp_path: Path) -> None:
    # Only the interpreter's directory on the PATH: no npm, no node.
    with build_wheel(tmp_path / "wheel", str(Path(sys.executable).parent)) as wheel:
        names = wheel.namelist()
    assert "flowmaestro/gateway/app.py" in names
    assert "flowmaestro/migrations/0001_outbox.sql" in names
    assert {n.split("/")[0] for n in names if "/" in n and ".dist-info/" not in n} == {
        "flowmaestro"
    }
    assert not any(n.startswith("flowmaestro/gateway/ui/") for n in names)
