"""`flowmaestro schema --temporal`: the contract for Temporal clients, on the configured task
queue; the docs' start input is valid against it, a malformed one is not."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from flowmaestro.cli import main
from flowmaestro.flows.search_attributes import dev_server_args
from tests.gateway.test_temporal_clients import doc_input


def contract(**env: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["schema", "--temporal"], env=env)
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.output)
    return parsed


def test_the_contract_names_type_queue_messages_and_attributes() -> None:
    printed = contract(FLOWMAESTRO_TASK_QUEUE="flows-eu")
    assert (printed["workflowType"], printed["taskQueue"]) == ("ExecutionWorkflow", "flows-eu")
    assert set(printed["updates"]) == {"provide_input"}
    assert set(printed["queries"]) == {"pending_inputs"}
    assert printed["searchAttributes"] == {
        "FlowMaestroUser": "Keyword",
        "FlowMaestroFlow": "Keyword",
        "FlowMaestroStatus": "Keyword",
    }
    # The dev servers register exactly these.
    assert dev_server_args()[1::2] == [f"{k}={v}" for k, v in printed["searchAttributes"].items()]


def test_the_docs_start_input_matches_the_input_schema() -> None:
    printed = contract()
    schema = {**printed["input"], "$defs": printed["$defs"]}
    jsonschema.validate(doc_input(), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"flow": doc_input()["flow"]}, schema)  # no owner
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**doc_input(), "flow": {"name": "x", "nodes": []}}, schema)
