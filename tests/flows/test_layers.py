"""The layers hold at run time, not only in import-linter's reading of the source: the
gateway loads no worker code, and the flows layer loads neither activities nor workflows."""

from __future__ import annotations

import subprocess
import sys

import pytest

from flowmaestro.activities.templating.codegen import ITER
from flowmaestro.activities.templating.sandbox import ENV
from flowmaestro.flows.templates import GLOBALS


def loaded_after(module: str) -> list[str]:
    """Our modules loaded by importing `module` in a fresh interpreter."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, {module}; print('\\n'.join(m for m in sys.modules if m.startswith('flowmaestro')))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return out.stdout.split()


@pytest.mark.parametrize("entry", ["flowmaestro.gateway", "flowmaestro.gateway.app"])
def test_the_gateway_import_graph_holds_no_worker_code(entry: str) -> None:
    loaded = loaded_after(entry)
    assert "flowmaestro.gateway.http_api" in loaded  # the check saw the whole gateway
    assert [m for m in loaded if m.startswith("flowmaestro.activities")] == []
    assert [m for m in loaded if m.startswith("flowmaestro.workflows")] == []


def test_flows_load_neither_activities_nor_workflows() -> None:
    loaded = loaded_after(
        "flowmaestro.flows.flow, flowmaestro.flows.start, flowmaestro.flows.kb.start"
    )
    assert [
        m for m in loaded if m.startswith(("flowmaestro.activities", "flowmaestro.workflows"))
    ] == []


def test_the_static_check_knows_exactly_the_globals_a_render_offers() -> None:
    # A template the check accepts must not fail to render for an unknown global, and one it
    # refuses must not be renderable (the counted-iteration helper is the code generator's).
    assert frozenset(ENV.globals) - {ITER} == GLOBALS


def test_every_node_type_has_an_executor_and_no_executor_lacks_a_type() -> None:
    from flowmaestro.activities.nodes.registry import NODE_TYPES as EXECUTORS
    from flowmaestro.flows.nodes import NODE_TYPES

    assert set(EXECUTORS) == set(NODE_TYPES)
    for name, executor in EXECUTORS.items():
        assert issubclass(executor, NODE_TYPES[name])
