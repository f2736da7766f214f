"""Agent failures. They are `NodeError`s, so the agent node surfaces them unchanged."""

from __future__ import annotations

from flowmaestro.activities.errors import NodeError


class ModelError(NodeError):
    """The model endpoint refused, failed or answered something unusable."""

    def __init__(self, message: str, *, type: str = "model_error", retryable: bool) -> None:
        super().__init__(message, type=type, retryable=retryable)


class ToolError(NodeError):
    """A tool could not do what it was asked; the model sees the message and may go on."""

    def __init__(self, message: str, *, type: str = "tool_error") -> None:
        super().__init__(message, type=type, retryable=False)
