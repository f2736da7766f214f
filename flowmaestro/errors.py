"""The root exception of the composition root and its CLI-facing errors."""

from __future__ import annotations


class FlowMaestroError(Exception):
    """Root of errors raised by `flowmaestro`; `hint` says what the user can do about it."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class MigrationError(FlowMaestroError):
    """A migration file cannot be applied, or an applied one was edited."""

    exit_code = 3


class NotMigratedError(FlowMaestroError):
    """The database lacks migrations this version needs (same exit code as a refused one)."""

    exit_code = 3


class UnreachableError(FlowMaestroError):
    """Postgres or Temporal did not answer at the configured address."""

    exit_code = 4
