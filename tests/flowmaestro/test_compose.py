"""docker-compose.yml checked without Docker: the services a production-like stack needs, their
healthchecks and start order, their configuration, and that every command it runs is one
the CLI has. Where `docker compose` exists, it must accept the file too."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from flowmaestro.cli import main
from flowmaestro.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = {"migrate", "worker", "gateway-1", "gateway-2"}
NEEDED = {"FLOWMAESTRO_DATABASE_URL", "FLOWMAESTRO_TEMPORAL_ADDRESS", "FLOWMAESTRO_JWT_SECRET"}


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    found: dict[str, Any] = compose["services"]
    return found


def depends(service: dict[str, Any]) -> dict[str, str]:
    return {name: spec["condition"] for name, spec in service.get("depends_on", {}).items()}


def test_the_stack_has_every_part(services: dict[str, Any]) -> None:
    assert set(services) == {"postgres", "temporal", "temporal-ui", "nginx"} | APP_SERVICES
    for name in APP_SERVICES:
        assert services[name]["build"] == ".", name
    assert (ROOT / "Dockerfile").is_file()


def test_only_the_proxy_is_published_beyond_localhost(services: dict[str, Any]) -> None:
    """Temporal's frontend and UI answer anyone without auth (every user's workflows), and
    Postgres holds everything: none of them may be reachable from outside the machine."""
    for name, service in services.items():
        for port in service.get("ports", []) if name != "nginx" else ():
            assert str(port).startswith("127.0.0.1:"), (name, port)
    assert "ports" not in services["temporal"] and "ports" not in services["postgres"]
    assert services["nginx"]["ports"] == ["8000:80", "8443:443"]


def test_whatever_others_wait_for_has_a_healthcheck(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for dependency, condition in depends(service).items():
            assert dependency in services, (name, dependency)
            if condition == "service_healthy":
                test = services[dependency]["healthcheck"]["test"]
                assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, dependency


def test_start_order(services: dict[str, Any]) -> None:
    assert depends(services["temporal"]) == {"postgres": "service_healthy"}
    assert depends(services["temporal-ui"]) == {"temporal": "service_healthy"}
    assert depends(services["migrate"]) == {"postgres": "service_healthy"}
    for name in ("worker", "gateway-1", "gateway-2"):
        assert depends(services[name]) == {
            "migrate": "service_completed_successfully",
            "temporal": "service_healthy",
        }, name
    assert depends(services["nginx"]) == {
        "gateway-1": "service_healthy",
        "gateway-2": "service_healthy",
    }
    assert services["migrate"]["restart"] == "no"


def test_configuration_is_environment_the_settings_know(services: dict[str, Any]) -> None:
    known = {f"FLOWMAESTRO_{field.upper()}" for field in Settings.model_fields}
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert isinstance(env, dict), name
        assert set(env) >= NEEDED, name
        unknown = {key for key in env if key.startswith("FLOWMAESTRO_")} - known
        assert not unknown, (name, unknown)
        assert "@postgres:5432/" in env["FLOWMAESTRO_DATABASE_URL"]
        assert env["FLOWMAESTRO_TEMPORAL_ADDRESS"] == "temporal:7233"
        # The secret comes from the operator, never from the file.
        assert env["FLOWMAESTRO_JWT_SECRET"].startswith("${FLOWMAESTRO_JWT_SECRET:?")
    for name in ("gateway-1", "gateway-2"):
        assert services[name]["environment"]["FLOWMAESTRO_GATEWAY_HOST"] == "0.0.0.0"


def test_every_command_it_runs_is_a_cli_command(services: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        command, *args = services[name]["command"]
        assert command in main.commands, (name, command)
        # Parsing the arguments checks every option exists and takes what it is given.
        subcommand = main.commands[command]
        with click.Context(main) as parent:
            subcommand.make_context(command, list(args), parent=parent)


def test_nginx_proxies_websockets_to_both_gateways() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server gateway-1:8000" in conf and "server gateway-2:8000" in conf
    assert "proxy_set_header Upgrade $http_upgrade" in conf
    assert 'if ($arg_transport != "websocket")' in conf
    assert "listen 443 ssl;" in conf and "return 308 https://" in conf


def test_the_gateways_close_metrics_and_docs(services: dict[str, Any]) -> None:
    """/metrics and /docs are behind the admin token, which the operator must give."""
    for name in ("gateway-1", "gateway-2"):
        token = services[name]["environment"]["FLOWMAESTRO_ADMIN_TOKEN"]
        assert token.startswith("${FLOWMAESTRO_ADMIN_TOKEN:?"), name


def compose_cli() -> list[str] | None:
    """`docker compose` (v2), else the standalone `docker-compose`, where either works."""
    for argv in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(argv[0]) is None:
            continue
        probe = subprocess.run([*argv, "version"], capture_output=True, timeout=30, check=False)
        if probe.returncode == 0:
            return argv
    return None


COMPOSE = compose_cli()


@pytest.mark.skipif(COMPOSE is None, reason="neither docker compose nor docker-compose is here")
def test_docker_compose_accepts_the_file() -> None:
    assert COMPOSE is not None
    env = {
        **os.environ,
        "FLOWMAESTRO_JWT_SECRET": "compose-config-check",
        "FLOWMAESTRO_ADMIN_TOKEN": "compose-config-check",
    }
    result = subprocess.run(
        [*COMPOSE, "config", "--quiet"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # Without the secret the file refuses to start the stack.
    unset = {k: v for k, v in env.items() if k != "FLOWMAESTRO_JWT_SECRET"}
    refused = subprocess.run(
        [*COMPOSE, "config", "--quiet"],
        cwd=ROOT,
        env=unset,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode != 0
    assert "set FLOWMAESTRO_JWT_SECRET" in refused.stderr


def test_the_image_holds_every_package_and_the_ui() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]:
        package = pattern.rstrip("*")
        assert f"COPY {package}/ {package}/" in dockerfile, package
    # flowmaestro/<layer> are links to the layers' folders: each folder must be there too.
    for link in (ROOT / "flowmaestro").iterdir():
        if link.is_symlink():
            folder = link.readlink().name
            assert f"COPY {folder}/ {folder}/" in dockerfile, folder
    # npm ci links the web workspace's packages: their manifests come before it.
    workspaces = json.loads((ROOT / "web" / "package.json").read_text())["workspaces"]
    npm_ci = dockerfile.index("RUN npm ci")
    for workspace in workspaces:
        assert dockerfile.find(f"COPY web/{workspace}/package.json {workspace}/") in range(npm_ci)
    assert "pip install -e '.[broker,tracing]'" in dockerfile
    assert "COPY examples/ examples/" in dockerfile
    assert "COPY --from=web /web/dist web/dist" in dockerfile
    assert 'ENTRYPOINT ["flowmaestro"]' in dockerfile
