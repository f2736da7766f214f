"""The one root exception of `workflows`, and the errors that carry data."""

from __future__ import annotations


class WorkflowsError(Exception):
    """Root of every error raised by the workflows package."""


class FlowError(WorkflowsError):
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


class FlowInputError(WorkflowsError):
    """The inputs given to start a flow do not match its declared `inputs`."""

    def __init__(self, input_name: str, problem: str) -> None:
        super().__init__(f"input {input_name!r}: {problem}")
        self.input_name = input_name
        self.problem = problem
