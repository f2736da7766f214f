"""The published contract for Temporal clients: what any SDK or the `temporal` CLI needs to
start an execution, answer its prompts and read its result (docs/temporal-clients.md).

`flowmaestro schema --temporal` prints it. Everything in it comes from the models the
workflow itself validates with, so it cannot drift from them.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from flowmaestro.flows.flow import Flow
from flowmaestro.flows.messages import (
    PENDING_INPUTS,
    PROVIDE_INPUT,
    REJECTION_CODES,
    ExecutionInput,
    PendingInput,
    ProvideInput,
    ProvideInputResult,
)
from flowmaestro.flows.search_attributes import SEARCH_ATTRIBUTES

WORKFLOW_TYPE: Final = "ExecutionWorkflow"

# The failure types an execution can end with before any node runs (ApplicationError.type,
# non-retryable); a node's failure carries the node's own type (docs/protocol.md).
START_FAILURES: Final = {
    "invalid_flow": "the flow document does not parse or check (the message says where)",
    "invalid_inputs": "the inputs do not match the flow's declared inputs",
    "too_large": "the flow is over a configured limit (the message names the setting)",
    "execution_exists": "the workflow id belongs to another owner, flow or run",
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


def temporal_contract(task_queue: str) -> dict[str, Any]:
    """One JSON document: workflow type, task queue, and the JSON Schema of every message."""
    adapters: list[tuple[str, JsonSchemaMode, TypeAdapter[Any]]] = [
        ("input", "validation", TypeAdapter(ExecutionInput)),
        ("flow", "validation", TypeAdapter(Flow)),
        ("provideInput", "validation", TypeAdapter(ProvideInput)),
        ("provideInputResult", "serialization", TypeAdapter(ProvideInputResult)),
        ("pendingInputs", "serialization", TypeAdapter(list[PendingInput])),
    ]
    # By alias: the pydantic data converter sends a prompt's `answer_schema` as `schema`.
    keyed, defs = TypeAdapter.json_schemas(adapters, by_alias=True, ref_template="#/$defs/{model}")
    definitions: dict[str, Any] = dict(defs.get("$defs", {}))
    # The input carries the flow as raw JSON (checked by the workflow's first activity):
    # describe what it must be.
    execution_input = definitions["ExecutionInput"]
    execution_input["properties"]["flow"] = {
        "$ref": "#/$defs/Flow",
        "description": execution_input["properties"]["flow"].get("description", ""),
    }
    execution_input["properties"]["inputs"] = {
        "type": "object",
        "additionalProperties": {"$ref": "#/$defs/JsonValue"},
        "description": execution_input["properties"]["inputs"].get("description", ""),
    }
    definitions["JsonValue"] = _JSON_VALUE
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "FlowMaestroTemporalContract",
        "workflowType": WORKFLOW_TYPE,
        "taskQueue": task_queue,
        "workflowId": "any unused id; it becomes the execution id",
        "input": keyed[("input", "validation")],
        "result": {
            "description": "the outputs of the flow's sink nodes, by node id",
            "type": "object",
            "additionalProperties": {"$ref": "#/$defs/JsonValue"},
        },
        "startFailures": START_FAILURES,
        "updates": {
            PROVIDE_INPUT: {
                "input": keyed[("provideInput", "validation")],
                "result": keyed[("provideInputResult", "serialization")],
                "rejections": list(REJECTION_CODES),
            }
        },
        "queries": {PENDING_INPUTS: {"result": keyed[("pendingInputs", "serialization")]}},
        "searchAttributes": {
            key.name: key.indexed_value_type.name.title() for key in SEARCH_ATTRIBUTES
        },
        "$defs": dict(sorted(definitions.items())),
    }
