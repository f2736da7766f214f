"""The one root exception of `events`, and the errors that carry data."""

from __future__ import annotations


class EventsError(Exception):
    """Root of every error raised by the events package."""


class InvalidEventError(EventsError):
    """An event failed its model; `field` names the first offending field (dotted, camelCase)."""

    def __init__(self, field: str, message: str, errors: list[dict[str, object]]) -> None:
        super().__init__(f"invalid event: {field}: {message}")
        self.field = field
        self.message = message
        self.errors = errors
