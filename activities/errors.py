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


class TemplateError(ActivitiesError):
    """A template does not parse, refers to something it may not, or fails to render.

    `type` is `template_error`, or `template_limit` when it went over its budget (time,
    output, operations, size or nesting; see `security.Limits`)."""

    def __init__(self, template: str, problem: str, *, type: str = "template_error") -> None:
        shown = template if len(template) <= 200 else template[:200] + "..."
        super().__init__(f"template {shown!r}: {problem}")
        self.template = template
        self.problem = problem
        self.type = type
