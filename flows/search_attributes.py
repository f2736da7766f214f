"""FlowMaestro's search attributes: who owns an execution, its flow and its status.

`ExecutionWorkflow` upserts them, so `temporal workflow list --query` and the Temporal UI
filter by them. A namespace must know them first: `flowmaestro dev` registers them with its
dev server; docs/temporal-clients.md says how for another namespace.
"""

from __future__ import annotations

from typing import Final

from temporalio.common import SearchAttributeKey

USER: Final = SearchAttributeKey.for_keyword("FlowMaestroUser")
FLOW: Final = SearchAttributeKey.for_keyword("FlowMaestroFlow")
STATUS: Final = SearchAttributeKey.for_keyword("FlowMaestroStatus")

SEARCH_ATTRIBUTES: Final = (USER, FLOW, STATUS)


def dev_server_args() -> list[str]:
    """`temporal server start-dev` arguments that register every attribute."""
    args: list[str] = []
    for key in SEARCH_ATTRIBUTES:
        args += ["--search-attribute", f"{key.name}={key.indexed_value_type.name.title()}"]
    return args
