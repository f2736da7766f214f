"""The one root exception of `activities`, and the errors that carry data."""

from __future__ import annotations


class ActivitiesError(Exception):
    """Root of every error raised by the activities package."""


class NodeError(ActivitiesError):
    """A node failed in a way its executor understands.

    `type` is machine-readable (it becomes `node:failed.data.error.type` and the Temporal
    failure type); `retryable` says whether another attempt could succeed.
    """

    def __init__(self, message: str, *, type: str, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.type = type
        self.retryable = retryable
