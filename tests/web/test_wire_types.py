"""The TypeScript SDK's wire types must match the Python models they are generated from."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from flowmaestro.commands.schema import wire_schema_text

WEB = Path(__file__).resolve().parents[2] / "web"
GENERATED = WEB / "packages" / "client" / "src" / "generated"
REGENERATE = (
    ".venv/bin/flowmaestro schema > web/packages/client/src/generated/wire.schema.json "
    "&& (cd web && npm run gen:types)"
)


def test_checked_in_schema_matches_python_models() -> None:
    checked_in = (GENERATED / "wire.schema.json").read_text()
    assert checked_in == wire_schema_text(), f"wire.schema.json is stale: run {REGENERATE}"


def test_schema_names_every_event_and_message() -> None:
    text = wire_schema_text()
    for name in ("FlowEvent", "AgentToken", "SubscribeAck", "ErrorAck", "ProvideInputRequest"):
        assert f'"{name}"' in text


def test_checked_in_typescript_matches_python_models(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None or not (WEB / "node_modules" / "json-schema-to-typescript").is_dir():
        pytest.skip("node or web/node_modules missing: run `npm ci` in web/ to check wire.ts")
    schema = tmp_path / "wire.schema.json"
    schema.write_text(wire_schema_text())
    result = subprocess.run(
        [node, "scripts/gen-types.mjs", "--check", str(schema)],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"{result.stderr.strip()}; regenerate: {REGENERATE}"
