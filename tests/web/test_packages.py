"""`@flowmaestro/client` and `@flowmaestro/react` as users get them: `npm pack` of both,
installed into a fresh Vite app on React 18 and another on React 19 (made by the test from
tests/web/package_app/), type-checked and built; `npm ls react` shows one React; server-side,
Node imports both packages (no window at import); in Chromium each app watches a real
execution and answers its prompt against the real stack."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from flowmaestro.gateway.auth import mint_token
from tests.support.ports import free_port
from tests.web.driver import ARTIFACTS, WEB, drive, missing
from tests.web.stack import Stack

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from temporalio.testing import WorkflowEnvironment

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(missing() is not None, reason=missing() or ""),
]

TEMPLATE = Path(__file__).resolve().parent / "package_app"
# The same tool versions as web/ (so npm's cache has them); React is the app's own.
VITE = "^8.3.8"
PLUGIN_REACT = "^6.3.0"
REACTS = {"18": ("^18.3.1", "^18.3.0"), "19": ("^19.3.1", "^19.3.0")}


async def _run(*command: str, cwd: Path, timeout: float = 300) -> str:
    proc = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(timeout):
            out, _ = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = out.decode()
    assert proc.returncode == 0, f"{' '.join(command)} failed:\n{text[-4000:]}"
    return text


@pytest.fixture(scope="module")
async def tarballs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both packages built and packed; their `npm pack` figures in the artifacts."""
    out = tmp_path_factory.mktemp("tarballs")
    npm = shutil.which("npm")
    assert npm is not None
    await _run(npm, "run", "build:packages", cwd=WEB)
    packed: dict[str, Path] = {}
    figures: list[dict[str, Any]] = []
    for name in ("client", "react"):
        text = await _run(
            npm, "pack", "--json", "--pack-destination", str(out), cwd=WEB / "packages" / name
        )
        info = json.loads(text[text.index("[") :])[0]
        figures.append({k: info[k] for k in ("name", "version", "size", "unpackedSize")})
        figures[-1]["files"] = len(info["files"])
        packed[name] = out / info["filename"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "npm-pack.json").write_text(json.dumps(figures, indent=1) + "\n")
    return packed


async def _app(root: Path, major: str, tarballs: dict[str, Path]) -> Path:
    """A fresh app on React `major`, installed from the tarballs and built."""
    app = root / f"react{major}-app"
    shutil.copytree(TEMPLATE, app)
    react, types = REACTS[major]
    package = {
        "name": f"react{major}-app",
        "private": True,
        "type": "module",
        "dependencies": {
            "@flowmaestro/client": f"file:{tarballs['client']}",
            "@flowmaestro/react": f"file:{tarballs['react']}",
            "react": react,
            "react-dom": react,
            "socket.io-client": "^4.8.0",
        },
        "devDependencies": {
            "@types/react": types,
            "@types/react-dom": types,
            "@vitejs/plugin-react": PLUGIN_REACT,
            "typescript": "^5.9.0",
            "vite": VITE,
        },
    }
    (app / "package.json").write_text(json.dumps(package, indent=1))
    npm = shutil.which("npm")
    assert npm is not None
    await _run(npm, "install", "--no-audit", "--no-fund", "--loglevel=error", cwd=app, timeout=600)
    await _run(str(app / "node_modules" / ".bin" / "tsc"), "-p", ".", cwd=app)
    await _run(str(app / "node_modules" / ".bin" / "vite"), "build", "--logLevel", "warn", cwd=app)
    return app


async def _one_react(app: Path, major: str) -> None:
    npm = shutil.which("npm")
    assert npm is not None
    listed = json.loads(await _run(npm, "ls", "react", "--all", "--json", cwd=app))
    versions: set[str] = set()

    def walk(deps: dict[str, Any]) -> None:
        for name, info in deps.items():
            if name == "react":
                versions.add(info["version"])
            walk(info.get("dependencies", {}))

    walk(listed["dependencies"])
    assert len(versions) == 1 and next(iter(versions)).startswith(f"{major}."), versions


async def _server_import(app: Path) -> None:
    """Node (no DOM) imports both packages and renders the provider to a string."""
    script = (
        "const c = await import('@flowmaestro/client'); const r = await import('@flowmaestro/react');"
        "const { createElement: h } = await import('react');"
        "const { renderToString } = await import('react-dom/server');"
        "if (typeof window !== 'undefined') throw new Error('window');"
        "const client = new c.FlowMaestroClient({ token: 't', url: 'http://gateway.invalid' });"
        "function P() { return h('p', null, r.useExecutionEvents('ex').status); }"
        "console.log(renderToString(h(r.FlowMaestroProvider, { client }, h(P))));"
    )
    node = shutil.which("node")
    assert node is not None
    out = await _run(node, "--input-type=module", "-e", script, cwd=app)
    assert out.strip() == "<p>pending</p>"


@contextlib.asynccontextmanager
async def _preview(app: Path, gateway: str) -> AsyncIterator[str]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        str(app / "node_modules" / ".bin" / "vite"),
        "preview",
        "--port",
        str(port),
        "--strictPort",
        "--host",
        "127.0.0.1",
        cwd=app,
        env={**os.environ, "GATEWAY": gateway},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with asyncio.timeout(30), httpx.AsyncClient() as http:
            while True:
                try:
                    if (await http.get(url)).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        await proc.wait()


@pytest.mark.parametrize("major", sorted(REACTS))
async def test_packed_packages_in_a_fresh_app(
    major: str,
    tarballs: dict[str, Path],
    tmp_path: Path,
    database_dsn: str,
    temporal_env: WorkflowEnvironment,
) -> None:
    app = await _app(tmp_path, major, tarballs)
    await _one_react(app, major)
    await _server_import(app)
    secret = uuid.uuid4().hex
    address = temporal_env.client.service_client.config.target_host
    async with Stack(database_dsn, address, secret, ARTIFACTS / f"react{major}-app") as stack:
        token = mint_token(secret, "package-user", 3600)
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=stack.base_url, headers=auth) as http:
            started = await http.post(
                "/api/executions", json={"flow": "approval", "inputs": {"amount": 500}}
            )
            assert started.status_code == 201, started.text
            execution_id = started.json()["executionId"]
        async with _preview(app, stack.base_url) as url:
            env = {
                "APP_URL": f"{url}/?token={token}&execution={execution_id}",
                "APP_NAME": f"react{major}",
                "REACT_MAJOR": major,
            }
            output = await drive("package_app.mjs", stack.base_url, token, _no_requests, env=env)
            assert output[-1] == "-- done"


async def _no_requests(request: dict[str, Any]) -> None:
    raise AssertionError(f"unexpected request from the browser script: {request}")
