"""Helpers the CLI commands share: settings in the click context, running coroutines, errors."""

from __future__ import annotations

import asyncio
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
