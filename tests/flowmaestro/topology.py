"""The topology of docker-compose.yml without Docker: Debian's nginx running deploy/nginx.conf
(only the upstream addresses, the listen ports, the certificate and the file paths changed),
in front of gateway processes on this machine, with TLS from a throwaway CA."""

from __future__ import annotations

import contextlib
import shutil
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tests.certificates import certificate
from tests.support.ports import free_port
from tests.support.processes import Child, ready

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


@dataclass(frozen=True, slots=True)
class Edge:
    """The proxy as clients see it: `url` (https), `plain_url` (http, redirects) and the
    TLS context that trusts its certificate."""

    url: str
    plain_url: str
    tls: ssl.SSLContext


def _replace(text: str, before: str, after: str) -> str:
    assert before in text, f"deploy/nginx.conf has no `{before}`"
    return text.replace(before, after)


def nginx_config(
    deploy: str, gateways: list[int], ports: tuple[int, int], prefix: Path, cert: tuple[Path, Path]
) -> str:
    """deploy/nginx.conf with local addresses, keeping every file nginx writes under
    `prefix`; `ports` are (plain, tls)."""
    conf = deploy
    for index, gateway_port in enumerate(gateways, 1):
        conf = _replace(conf, f"server gateway-{index}:8000", f"server 127.0.0.1:{gateway_port}")
    conf = _replace(conf, "listen 80;", f"listen 127.0.0.1:{ports[0]};")
    conf = _replace(conf, "listen 443 ssl;", f"listen 127.0.0.1:{ports[1]} ssl;")
    conf = _replace(conf, "/etc/nginx/tls/tls.crt", str(cert[0]))
    conf = _replace(conf, "/etc/nginx/tls/tls.key", str(cert[1]))
    conf = _replace(conf, "worker_processes auto;", "worker_processes 1;")
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = _replace(
        conf,
        "access_log /var/log/nginx/access.log;",
        f"access_log {prefix / 'access.log'};\n{temp}",
    )
    conf = _replace(conf, "/var/log/nginx/error.log warn", f"{prefix / 'error.log'} info")
    return f"daemon off;\npid {prefix / 'nginx.pid'};\n{conf}"


def write_config(
    gateways: list[int], ports: tuple[int, int], prefix: Path
) -> tuple[Path, tuple[Path, Path]]:
    prefix.mkdir(parents=True, exist_ok=True)
    cert = certificate(prefix, "localhost", ("127.0.0.1",))
    conf = prefix / "nginx.conf"
    conf.write_text(
        nginx_config((ROOT / "deploy" / "nginx.conf").read_text(), gateways, ports, prefix, cert)
    )
    return conf, cert


@contextlib.asynccontextmanager
async def nginx(gateways: list[int], prefix: Path) -> AsyncIterator[Edge]:
    """nginx in front of `gateways` until the block ends."""
    assert NGINX is not None
    ports = (free_port(), free_port())
    conf, cert = write_config(gateways, ports, prefix)
    edge = Edge(
        f"https://127.0.0.1:{ports[1]}",
        f"http://127.0.0.1:{ports[0]}",
        ssl.create_default_context(cafile=str(cert[0])),
    )
    args = (NGINX, "-p", prefix, "-e", prefix / "error.log", "-c", conf)
    async with Child(*args, name="nginx") as proc:
        # The plain port answers /healthz (the container's check) as well.
        await ready(edge.plain_url, proc, path="/healthz", timeout=30)
        yield edge
