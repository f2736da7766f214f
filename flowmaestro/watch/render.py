"""The terminal view of an execution: a header with overall progress, the node table, agent
text as it streams, knowledge-base documents, custom events and open prompts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.console import Group
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import RenderableType

    from flowmaestro.watch.state import ExecutionState, NodeRow

_STATUS_STYLE = {
    "completed": "green",
    "failed": "red",
    "retrying": "yellow",
    "running": "cyan",
    "waiting for input": "magenta",
}
# The tail of an agent's text that fits a screen.
_AGENT_CHARS = 1200


def render(state: ExecutionState, asking: tuple[str, str] | None = None) -> RenderableType:
    """`asking` is (input id, the question with what is typed so far) of the prompt being
    answered here: it is drawn in the prompt's place, so the question shows once."""
    header = Table.grid(padding=(0, 2))
    header.add_row(
        Text(state.execution_id, style="bold"),
        Text(state.flow),
        Text(state.status, style=_STATUS_STYLE.get(state.status, "")),
        ProgressBar(total=100, completed=state.progress, width=30),
        Text(f"{state.progress:.0f}%"),
    )
    parts: list[RenderableType] = [header, _nodes(state)]
    for agent_id, agent in state.agents.items():
        body = Text(agent.text[-_AGENT_CHARS:])
        for call in agent.tool_calls:
            body.append(f"\n  tool {call}", style="dim")
        title = f"agent {agent_id} ({agent.model}){'' if agent.done else ' streaming…'}"
        parts.append(Panel(body, title=title, title_align="left"))
    for document in state.documents.values():
        parts.append(Text(f"knowledge base  {document}", style="blue"))
    for line in state.custom:
        parts.append(Text(f"event  {line}", style="blue"))
    for input_id, prompt in state.prompts.items():
        if asking is not None and asking[0] == input_id:
            parts.append(Text(f"{asking[1]}▏", style="bold magenta"))
        else:
            parts.append(Text(f"waiting for input: {prompt['prompt']}", style="magenta"))
    if state.outputs is not None:
        parts.append(Text(f"outputs: {json.dumps(state.outputs)}", style="green"))
    if state.error:
        parts.append(Text(f"failed: {state.error}", style="red"))
    return Group(*parts)


def _nodes(state: ExecutionState) -> Table:
    table = Table(expand=False, show_edge=False)
    for column in ("node", "type", "status", "attempt", "duration", "progress"):
        table.add_column(column)
    for row in state.nodes.values():
        table.add_row(
            row.node_id,
            row.node_type,
            Text(row.status, style=_STATUS_STYLE.get(row.status, "")),
            str(row.attempt or ""),
            _duration(row),
            ProgressBar(total=100, completed=row.progress or 0, width=16)
            if row.progress is not None
            else Text(row.step),
        )
    return table


def _duration(row: NodeRow) -> str:
    if row.duration_ms is not None:
        return f"{row.duration_ms / 1000:.2f}s"
    if row.started_at is not None and row.status in ("running", "waiting for input"):
        return f"{(datetime.now(UTC) - row.started_at).total_seconds():.0f}s…"
    return ""
