"""One pydantic model per event type of docs/protocol.md, grouped by category."""

from __future__ import annotations

from flowmaestro.events.catalogue.agent import (
    AgentStreamingEnd,
    AgentStreamingEndData,
    AgentStreamingStart,
    AgentStreamingStartData,
    AgentToken,
    AgentTokenData,
    AgentToolCall,
    AgentToolCallData,
)
from flowmaestro.events.catalogue.app import AppEvent
from flowmaestro.events.catalogue.execution import (
    ExecutionCompleted,
    ExecutionCompletedData,
    ExecutionFailed,
    ExecutionFailedData,
    ExecutionStarted,
    ExecutionStartedData,
    ExecutionUpdated,
    ExecutionUpdatedData,
)
from flowmaestro.events.catalogue.kb import (
    KbProcessing,
    KbProcessingData,
    KbUploadCompleted,
    KbUploadCompletedData,
    KbUploadFailed,
    KbUploadFailedData,
    KbUploadStarted,
    KbUploadStartedData,
)
from flowmaestro.events.catalogue.node import (
    NodeCompleted,
    NodeCompletedData,
    NodeFailed,
    NodeFailedData,
    NodeProgress,
    NodeProgressData,
    NodeStarted,
    NodeStartedData,
)
from flowmaestro.events.catalogue.user_input import (
    UserInputReceived,
    UserInputReceivedData,
    UserInputRequired,
    UserInputRequiredData,
    UserInputTimeout,
    UserInputTimeoutData,
)

CatalogueEvent = (
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
"""The closed catalogue: one model per type, each with its `*Data` model."""

Event = CatalogueEvent | AppEvent
"""Every event: the catalogue's, and custom `app:<name>` events (an open family)."""

EventData = (
    ExecutionStartedData
    | ExecutionUpdatedData
    | ExecutionCompletedData
    | ExecutionFailedData
    | NodeStartedData
    | NodeCompletedData
    | NodeFailedData
    | NodeProgressData
    | UserInputRequiredData
    | UserInputReceivedData
    | UserInputTimeoutData
    | KbUploadStartedData
    | KbProcessingData
    | KbUploadCompletedData
    | KbUploadFailedData
    | AgentStreamingStartData
    | AgentTokenData
    | AgentToolCallData
    | AgentStreamingEndData
)
"""What goes in an event's `data`; events/envelopes.py puts each in its own envelope."""

__all__ = [
    "AgentStreamingEnd",
    "AgentStreamingEndData",
    "AgentStreamingStart",
    "AgentStreamingStartData",
    "AgentToken",
    "AgentTokenData",
    "AgentToolCall",
    "AgentToolCallData",
    "AppEvent",
    "CatalogueEvent",
    "Event",
    "EventData",
    "ExecutionCompleted",
    "ExecutionCompletedData",
    "ExecutionFailed",
    "ExecutionFailedData",
    "ExecutionStarted",
    "ExecutionStartedData",
    "ExecutionUpdated",
    "ExecutionUpdatedData",
    "KbProcessing",
    "KbProcessingData",
    "KbUploadCompleted",
    "KbUploadCompletedData",
    "KbUploadFailed",
    "KbUploadFailedData",
    "KbUploadStarted",
    "KbUploadStartedData",
    "NodeCompleted",
    "NodeCompletedData",
    "NodeFailed",
    "NodeFailedData",
    "NodeProgress",
    "NodeProgressData",
    "NodeStarted",
    "NodeStartedData",
    "UserInputReceived",
    "UserInputReceivedData",
    "UserInputRequired",
    "UserInputRequiredData",
    "UserInputTimeout",
    "UserInputTimeoutData",
]
