"""Packaging hook (everything else is in pyproject.toml): build the web UI with the package.

When npm is on the PATH, `pip install` (a wheel or an editable install) runs web/scripts/build;
a wheel then carries the built files as `flowmaestro/gateway/ui/`, which the gateway serves at `/`. An
editable install serves web/dist in place. Without npm, or when the build fails, the install
still succeeds and the gateway's `/` explains how to build the UI.
FLOWMAESTRO_SKIP_UI_BUILD=1 skips the build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
WEB = ROOT / "web"


def build_ui() -> Path | None:
    """web/dist after building it, or None (with the reason on stderr)."""
    if os.environ.get("FLOWMAESTRO_SKIP_UI_BUILD") == "1":
        return None
    if shutil.which("npm") is None or not (WEB / "scripts" / "build").is_file():
        print("flowmaestro: npm not found: installing without the UI", file=sys.stderr)
        return None
    try:
        subprocess.run(["bash", str(WEB / "scripts" / "build")], check=True, timeout=900)
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"flowmaestro: the UI build failed ({exc}): installing without it", file=sys.stderr)
        return None
    dist = WEB / "dist"
    return dist if (dist / "index.html").is_file() else None


class BuildPyWithUI(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "flowmaestro" / "gateway" / "ui"
        shutil.rmtree(target, ignore_errors=True)  # never a stale copy from an earlier build
        dist = build_ui()
        if dist is not None and not self.editable_mode:
            shutil.copytree(dist, target)


setup(cmdclass={"build_py": BuildPyWithUI})
