"""`python -m flowmaestro`: the CLI, as `flowmaestro dev` starts its children."""

from __future__ import annotations

from flowmaestro.cli import run

run()
