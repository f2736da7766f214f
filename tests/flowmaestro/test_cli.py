"""The CLI as scripts use it: help on every command, and exit codes and messages that say
which address could not be reached and what to do."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING

import click
import pytest
from click.testing import CliRunner

from flowmaestro.cli import main
from tests.support.ports import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield prefix
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from command_paths(command, (*prefix, name))
        else:
            yield (*prefix, name)


def test_the_cli_has_every_command() -> None:
    expected = {"dev", "migrate", "worker", "gateway", "run", "watch", "token", "kb", "prune"}
    assert expected <= set(main.commands)


@pytest.mark.parametrize("path", list(command_paths(main)), ids=lambda p: " ".join(p) or "main")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ")
    # A one-line summary at least, so `flowmaestro --help` lists what each command does.
    assert len(result.output.splitlines()) > 3


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound and released: the kernel will not hand it out again
    at once)."""
    return free_port()


def test_unreachable_postgres_exits_4_naming_the_address(closed_port: int) -> None:
    env = {"FLOWMAESTRO_DATABASE_URL": f"postgresql://me:secret@127.0.0.1:{closed_port}/db"}
    result = CliRunner().invoke(main, ["migrate"], env=env)
    assert result.exit_code == 4, result.output
    assert f"cannot reach Postgres at postgresql://me@127.0.0.1:{closed_port}/db" in result.output
    assert "secret" not in result.output
    assert "hint: " in result.output


def test_unreachable_temporal_exits_4_naming_the_address(
    closed_port: int, database_dsn: str
) -> None:
    env = {
        "FLOWMAESTRO_DATABASE_URL": database_dsn,
        "FLOWMAESTRO_TEMPORAL_ADDRESS": f"127.0.0.1:{closed_port}",
    }
    args = ["run", str(EXAMPLES / "approval.yaml"), "--user", "u1", "--input", "amount=5"]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 4, result.output
    assert f"cannot reach Temporal at 127.0.0.1:{closed_port}" in result.output
    assert "hint: " in result.output


def test_unreachable_gateway_exits_4_naming_the_address(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    result = CliRunner().invoke(main, ["watch", "ex_1", "--url", url, "--token", "t"])
    assert result.exit_code == 4, result.output
    assert f"cannot connect to the gateway at {url}" in result.output


def test_watch_without_a_token_is_a_usage_error(tmp_path: Path) -> None:
    env = {"FLOWMAESTRO_STATE_DIR": str(tmp_path), "FLOWMAESTRO_TOKEN": None}
    result = CliRunner().invoke(main, ["watch", "ex_1"], env=env)
    assert result.exit_code == 2
    assert "no token" in result.output


def test_dev_refuses_a_busy_port_before_starting_anything(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            main, ["dev", "--data-dir", str(tmp_path), "--port", str(port), "--host", "127.0.0.1"]
        )
    assert result.exit_code == 1, result.output
    assert f"port {port} on 127.0.0.1 is in use" in result.output
    assert "--port" in result.output
    assert not (tmp_path / "pgdata").exists()


def test_dev_with_an_unreachable_temporal_exits_4_at_once(
    closed_port: int, database_dsn: str, tmp_path: Path
) -> None:
    env = {
        "FLOWMAESTRO_DATABASE_URL": database_dsn,
        "FLOWMAESTRO_TEMPORAL_ADDRESS": f"127.0.0.1:{closed_port}",
    }
    args = ["dev", "--data-dir", str(tmp_path), "--port", str(free_port()), "--no-demo"]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 4, result.output
    assert f"cannot reach Temporal at 127.0.0.1:{closed_port}" in result.output


def test_a_malformed_setting_is_named_not_a_traceback() -> None:
    result = CliRunner().invoke(main, ["status"], env={"FLOWMAESTRO_GATEWAY_PORT": "eighty"})
    assert result.exit_code == 1
    assert "invalid configuration: FLOWMAESTRO_GATEWAY_PORT:" in result.output
    assert "Traceback" not in result.output
