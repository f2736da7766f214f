"""One pydantic model per event type of docs/protocol.md, grouped by category."""

from __future__ import annotations

from flowmaestro.events.catalogue.agent import (
    AgentStreamingEnd,
    AgentStreamingStart,
    AgentToken,
    AgentToolCall,
)
from flowmaestro.events.catalogue.execution import (
    ExecutionCompleted,
    ExecutionFailed,
    ExecutionStarted,
    ExecutionUpdated,
)
from flowmaestro.events.catalogue.kb import (
    KbProcessing,
    KbUploadCompleted,
    KbUploadFailed,
    KbUploadStarted,
)
from flowmaestro.events.catalogue.node import NodeCompleted, NodeFailed, NodeProgress, NodeStarted
from flowmaestro.events.catalogue.user_input import (
    UserInputReceived,
    UserInputRequired,
    UserInputTimeout,
)

Event = (
    ExecutionStarted
    | ExecutionUpdated
    | ExecutionCompleted
    | ExecutionFailed
    | NodeStarted
    | NodeCompleted
    | NodeFailed
    | NodeProgress
    | UserInputRequired
    | UserInputReceived
    | UserInputTimeout
    | KbUploadStarted
    | KbProcessing
    | KbUploadCompleted
    | KbUploadFailed
    | AgentStreamingStart
    | AgentToken
    | AgentToolCall
    | AgentStreamingEnd
)

__all__ = [
    "AgentStreamingEnd",
    "AgentStreamingStart",
    "AgentToken",
    "AgentToolCall",
    "Event",
    "ExecutionCompleted",
    "ExecutionFailed",
    "ExecutionStarted",
    "ExecutionUpdated",
    "KbProcessing",
    "KbUploadCompleted",
    "KbUploadFailed",
    "KbUploadStarted",
    "NodeCompleted",
    "NodeFailed",
    "NodeProgress",
    "NodeStarted",
    "UserInputReceived",
    "UserInputRequired",
    "UserInputTimeout",
]
