"""The one root exception of `flows`, and the errors that carry data."""

from __future__ import annotations


class FlowsError(Exception):
    """Root of every error raised by the flows package."""


class FlowError(FlowsError):
    """A flow definition is invalid; `node_id` names the offending node (None: the flow)."""

    def __init__(
        self, problem: str, node_id: str | None = None, *, limit: str | None = None
    ) -> None:
        where = f"node {node_id!r}" if node_id is not None else "flow"
        super().__init__(f"{where}: {problem}")
        self.node_id = node_id
        self.problem = problem
        self.limit = limit
        """The setting of the limit it is over (e.g. FLOWMAESTRO_LIMITS__MAX_NODES), if any."""


class FlowInputError(FlowsError):
    """The inputs given to start a flow do not match its declared `inputs`."""

    def __init__(self, input_name: str, problem: str) -> None:
        super().__init__(f"input {input_name!r}: {problem}")
        self.input_name = input_name
        self.problem = problem


class TemplateError(FlowsError):
    """A template does not parse, refers to something it may not, or fails to render.

    `type` is `template_error`, or `template_limit` when it went over its budget (time,
    output, operations, size or nesting; see `flowmaestro.security.Limits`)."""

    def __init__(self, template: str, problem: str, *, type: str = "template_error") -> None:
        shown = template if len(template) <= 200 else template[:200] + "..."
        super().__init__(f"template {shown!r}: {problem}")
        self.template = template
        self.problem = problem
        self.type = type
