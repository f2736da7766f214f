"""The plugin's errors: one root, raised to the application's own code."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError


class PluginError(Exception):
    """Root of the errors `flowmaestro.temporal` raises in activity code."""


class EventNameError(PluginError, ValueError):
    """A custom event's name is not `APP_NAME` (lower-case, digits, `_.-`, at most 64)."""


class EventDataError(PluginError, ValueError):
    """A custom event's data fails the model registered for its name, or is not JSON."""


class EventTooLargeError(PluginError, ValueError):
    """A custom event's data is over `Limits.max_event_data_bytes`."""


class AskTimeoutError(ApplicationError):
    """`ask()` had no answer within its timeout. Non-retryable: uncaught, it fails the
    workflow (type `input_timeout`); catch it to go on without an answer."""

    def __init__(self, input_id: str, timeout: float) -> None:
        super().__init__(
            f"no answer to {input_id} within {timeout:g}s",
            type="input_timeout",
            non_retryable=True,
        )
        self.input_id = input_id
        self.timeout = timeout
