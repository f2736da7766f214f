"""The one root exception of `broker`."""

from __future__ import annotations


class BrokerError(Exception):
    """Root of every error raised by the broker package (a bad URL, for one)."""


class BrokerUnavailable(BrokerError):
    """The broker cannot take a message now (disconnected, reconnecting)."""


def describe(exc: BaseException) -> str:
    """An error as one log line: its type, and its text when it has one."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
