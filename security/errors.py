"""The security package's errors: each carries the code clients see and the limit it hit."""

from __future__ import annotations


class SecurityError(Exception):
    """Root of every error raised by `security`."""

    code: str = "forbidden"


class LimitExceededError(SecurityError):
    """A configured bound was passed; `limit` names its setting (FLOWMAESTRO_LIMITS__<NAME>)."""

    code = "too_large"

    def __init__(self, limit: str, value: int | float, maximum: int | float, message: str) -> None:
        super().__init__(message)
        self.limit = limit
        self.value = value
        self.maximum = maximum
