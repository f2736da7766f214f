"""`flowmaestro schema`: the JSON Schema of everything on the wire, for the TypeScript SDK.

web/packages/client/src/generated/ holds this schema and the TypeScript made from it; a test regenerates
both and fails when they drift from the Python models.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any

import click
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from flowmaestro.events import EVENT_ADAPTER
from flowmaestro.events.model import ADDED
from flowmaestro.events.protocol import (
    AuthExpired,
    AuthExpiring,
    AuthRefreshAck,
    AuthRefreshRequest,
    ConnectErrorData,
    ConnectOptions,
    ErrorAck,
    OkAck,
    PresenceChange,
    ProvideInputRequest,
    SubscribeAck,
    SubscribeRequest,
    UnsubscribeRequest,
)
from flowmaestro.flows.contract import temporal_contract
from flowmaestro.gateway import api_models
from flowmaestro.gateway.api_models import (
    Answered,
    DocumentAccepted,
    EventPage,
    ExecutionList,
    ExecutionSnapshot,
    InboxPage,
    KnowledgeBaseCreated,
    KnowledgeBaseList,
    Started,
)
from flowmaestro.gateway.cancel import CancelResult
from flowmaestro.runtime import settings_of
from flowmaestro.temporal.custom_events import REGISTRY

# What clients send is described as the server validates it (defaults optional); what the
# server sends, as it serialises it: every field is always present, so every field is required.
_REQUESTS: dict[str, type[BaseModel]] = {
    "connectOptions": ConnectOptions,
    "subscribeRequest": SubscribeRequest,
    "unsubscribeRequest": UnsubscribeRequest,
    "provideInputRequest": ProvideInputRequest,
    "authRefreshRequest": AuthRefreshRequest,
}
_REPLIES: dict[str, type[BaseModel]] = {
    "subscribeAck": SubscribeAck,
    "okAck": OkAck,
    "errorAck": ErrorAck,
    "connectErrorData": ConnectErrorData,
    "authRefreshAck": AuthRefreshAck,
    "authExpiring": AuthExpiring,
    "authExpired": AuthExpired,
    "presenceChange": PresenceChange,
    # The HTTP API's success bodies (the OpenAPI document shows the same models).
    "started": Started,
    "executionList": ExecutionList,
    "executionSnapshot": ExecutionSnapshot,
    "inboxPage": InboxPage,
    "eventPage": EventPage,
    "answered": Answered,
    "cancelResult": CancelResult,
    "knowledgeBaseList": KnowledgeBaseList,
    "knowledgeBaseCreated": KnowledgeBaseCreated,
    "documentAccepted": DocumentAccepted,
}


_JSON_VALUE: dict[str, Any] = {
    "anyOf": [
        {"type": "string"},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "null"},
        {"type": "array", "items": {"$ref": "#/$defs/JsonValue"}},
        {"type": "object", "additionalProperties": {"$ref": "#/$defs/JsonValue"}},
    ],
}


def wire_schema() -> dict[str, Any]:
    """One root schema whose properties name the event union and every protocol message."""
    inputs: list[tuple[str, JsonSchemaMode, TypeAdapter[Any]]] = [
        ("event", "serialization", EVENT_ADAPTER)
    ]
    inputs += [(key, "validation", TypeAdapter(model)) for key, model in _REQUESTS.items()]
    inputs += [(key, "serialization", TypeAdapter(model)) for key, model in _REPLIES.items()]
    keyed, defs = TypeAdapter.json_schemas(inputs, by_alias=True, ref_template="#/$defs/{model}")
    definitions: dict[str, Any] = {}
    requests = {model.__name__ for model in _REQUESTS.values()}
    # The HTTP bodies describe stored JSON, where a field with a default may be absent.
    requests |= {
        name
        for name, value in vars(api_models).items()
        if isinstance(value, type) and value.__module__ == api_models.__name__
    }
    for name, definition in defs.get("$defs", {}).items():
        definition = _without_property_titles(definition)
        if name not in requests and "properties" in definition:
            # Every property is sent, except one left out while it holds its default.
            properties = definition["properties"]
            definition["required"] = [p for p in properties if not properties[p].get(ADDED)]
        definitions[name] = definition
    # The union is inline, not a $ref; name it so its TypeScript type is named.
    definitions["FlowEvent"] = {"title": "FlowEvent", **keyed[("event", "serialization")]}
    # pydantic describes JsonValue as `{}` (anything); spell out what it accepts.
    definitions["JsonValue"] = _JSON_VALUE
    properties = {key: keyed[(key, mode)] for key, mode, _ in inputs}
    properties["event"] = {"$ref": "#/$defs/FlowEvent"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "WireSchema",
        "description": "Every event and protocol message of docs/protocol.md.",
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
        "$defs": dict(sorted(definitions.items())),
    }


def _without_property_titles(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop pydantic's per-field titles ("Nodeid"): the generator would name a type after each."""
    properties = {
        name: {k: v for k, v in prop.items() if k != "title"}
        for name, prop in schema.get("properties", {}).items()
    }
    return {**schema, "properties": properties} if properties else dict(schema)


def wire_schema_text() -> str:
    """The schema as the checked-in file holds it (stable key order, trailing newline)."""
    return json.dumps(wire_schema(), indent=2, sort_keys=False) + "\n"


@click.command("schema")
@click.option(
    "--temporal",
    is_flag=True,
    help="print the contract for Temporal clients instead: workflow type, task queue, the "
    "schema of the input, result, provide_input update and pending_inputs query",
)
@click.option(
    "--app-events",
    "modules",
    multiple=True,
    metavar="MODULE",
    help="print the schema of the custom events MODULE (importable from the current "
    "directory) registers with register_event instead, for typed clients; repeatable",
)
@click.pass_context
def schema_command(ctx: click.Context, temporal: bool, modules: tuple[str, ...]) -> None:
    """Print the JSON Schema of every event and protocol message (for the TypeScript SDK)."""
    if modules:
        # As `python -m` would: the application's modules are found from where it runs.
        sys.path.insert(0, os.getcwd())
        for module in modules:
            importlib.import_module(module)
        schema = REGISTRY.json_schema()
        schema["$defs"] = {k: _without_property_titles(v) for k, v in schema["$defs"].items()}
        click.echo(json.dumps(schema, indent=2))
        return
    if temporal:
        contract = temporal_contract(settings_of(ctx).task_queue)
        click.echo(json.dumps(contract, indent=2))
        return
    click.echo(wire_schema_text(), nl=False)
