"""The event catalogue, channel routing and the Postgres outbox store.

Pure by rule: this package imports pydantic and asyncpg, nothing else of ours.
"""

from __future__ import annotations

from flowmaestro.events.catalogue import (
    AgentStreamingEnd,
    AgentStreamingStart,
    AgentToken,
    AgentToolCall,
    AppEvent,
    CatalogueEvent,
    Event,
    EventData,
    ExecutionCompleted,
    ExecutionFailed,
    ExecutionStarted,
    ExecutionUpdated,
    KbProcessing,
    KbUploadCompleted,
    KbUploadFailed,
    KbUploadStarted,
    NodeCompleted,
    NodeFailed,
    NodeProgress,
    NodeStarted,
    UserInputReceived,
    UserInputRequired,
    UserInputTimeout,
)
from flowmaestro.events.channels import channels_for
from flowmaestro.events.errors import EventsError, InvalidEventError
from flowmaestro.events.ids import event_id
from flowmaestro.events.union import (
    EVENT_ADAPTER,
    EVENT_TYPES,
    AnyEvent,
    is_event_type,
    parse_event,
)

__all__ = [
    "EVENT_ADAPTER",
    "EVENT_TYPES",
    "AgentStreamingEnd",
    "AgentStreamingStart",
    "AgentToken",
    "AgentToolCall",
    "AnyEvent",
    "AppEvent",
    "CatalogueEvent",
    "Event",
    "EventData",
    "EventsError",
    "ExecutionCompleted",
    "ExecutionFailed",
    "ExecutionStarted",
    "ExecutionUpdated",
    "InvalidEventError",
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
    "channels_for",
    "event_id",
    "is_event_type",
    "parse_event",
]
