"""Your own Temporal workflows, live: `FlowMaestroPlugin` and what workflows and activities
call (docs/own-workflows.md).

- `FlowMaestroPlugin(settings=None)`: a `temporalio.plugin.SimplePlugin` for a client or a
  worker;
- `start_options(user, visibility=..., workspace=...)`: the start arguments that make a run
  `user`'s execution, private or shared with a workspace (docs/teams.md);
- in an activity: `progress`, `agent_stream`, `emit_event` (with `register_event`);
- in a workflow: `ask`.
"""

from __future__ import annotations

from flowmaestro.temporal.agent_stream import AgentStream, agent_stream
from flowmaestro.temporal.ask import ask
from flowmaestro.temporal.custom_events import emit_event, register_event
from flowmaestro.temporal.errors import (
    AskTimeoutError,
    EventDataError,
    EventNameError,
    EventTooLargeError,
    PluginError,
)
from flowmaestro.temporal.ownership import start_options
from flowmaestro.temporal.plugin import FlowMaestroPlugin
from flowmaestro.temporal.progress import progress

__all__ = [
    "AgentStream",
    "AskTimeoutError",
    "EventDataError",
    "EventNameError",
    "EventTooLargeError",
    "FlowMaestroPlugin",
    "PluginError",
    "agent_stream",
    "ask",
    "emit_event",
    "progress",
    "register_event",
    "start_options",
]
