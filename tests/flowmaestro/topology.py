"""The topology of docker-compose.yml without Docker: Debian's nginx with a config made from
deploy/nginx.conf (only the upstream addresses and the listen port changed), in front of
gateway processes on this machine."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from tests.support.ports import free_port
from tests.support.processes import Child, ready

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def nginx_config(deploy: str, gateways: list[int], port: int, prefix: Path) -> str:
    """deploy/nginx.conf's server block with local addresses, inside a main config that keeps
    every file nginx writes under `prefix`."""
    site = deploy
    for index, gateway_port in enumerate(gateways, 1):
        before = f"server gateway-{index}:8000"
        assert before in site, f"deploy/nginx.conf has no `{before}`"
        site = site.replace(before, f"server 127.0.0.1:{gateway_port}")
    assert "listen 80;" in site, "deploy/nginx.conf has no `listen 80;`"
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""daemon off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} info;
events {{ worker_connections 1024; }}
http {{
    access_log {prefix / "access.log"};
{temp}
{site}
}}
"""


def write_config(gateways: list[int], port: int, prefix: Path) -> Path:
    prefix.mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(
        nginx_config((ROOT / "deploy" / "nginx.conf").read_text(), gateways, port, prefix)
    )
    return conf


@contextlib.asynccontextmanager
async def nginx(gateways: list[int], prefix: Path) -> AsyncIterator[str]:
    """nginx in front of `gateways` until the block ends; yields its URL."""
    assert NGINX is not None
    port = free_port()
    conf = write_config(gateways, port, prefix)
    url = f"http://127.0.0.1:{port}"
    args = (NGINX, "-p", prefix, "-e", prefix / "error.log", "-c", conf)
    async with Child(*args, name="nginx") as proc:
        await ready(url, proc, path="/healthz", timeout=30)
        yield url
