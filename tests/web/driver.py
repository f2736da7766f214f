"""Running a browser script (web/e2e/*.mjs): it asks for what only the test can do with
`@@ {json}` lines and reads each answer on stdin; its output is kept in the artifacts."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = Path(os.environ.get("FLOWMAESTRO_CHROMIUM", "/usr/bin/chromium"))


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return (
            f"browser tests skipped: no Chromium at {CHROMIUM} "
            "(apt-get install chromium, or set FLOWMAESTRO_CHROMIUM)"
        )
    if shutil.which("node") is None:
        return "browser tests skipped: node is not installed"
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        return "browser tests skipped: run `npm ci` in web/ first"
    if not (WEB / "dist" / "index.html").is_file():
        return "browser tests skipped: build the UI first (`npm run build` in web/)"
    return None


async def drive(
    script: str,
    base_url: str,
    token: str,
    serve: Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 240,
) -> list[str]:
    """Run one browser script to its end (`env` added to its environment), answering its
    requests with `serve` (whose dict, if any, is merged into the answer); returns its
    output."""
    node = shutil.which("node")
    assert node is not None
    proc = await asyncio.create_subprocess_exec(
        node,
        f"e2e/{script}",
        cwd=WEB,
        env={
            **os.environ,
            **(env or {}),
            "BASE_URL": base_url,
            "TOKEN": token,
            "ARTIFACTS": str(ARTIFACTS),
        },
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdin is not None and proc.stdout is not None
    output: list[str] = []
    try:
        async with asyncio.timeout(timeout):
            async for raw in proc.stdout:
                line = raw.decode().rstrip("\n")
                output.append(line)
                if line.startswith("@@ "):
                    try:
                        reply: dict[str, Any] = {
                            "ok": True,
                            **(await serve(json.loads(line[3:])) or {}),
                        }
                    except Exception as exc:
                        reply = {"ok": False, "error": repr(exc)}
                    proc.stdin.write((json.dumps(reply) + "\n").encode())
                    await proc.stdin.drain()
            await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{script}.log").write_text("\n".join(output) + "\n")
    assert proc.returncode == 0, "\n".join(output[-40:])
    return output
