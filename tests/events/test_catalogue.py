from __future__ import annotations

import json

import pytest

from flowmaestro.events import (
    EVENT_TYPES,
    AppEvent,
    InvalidEventError,
    NodeStarted,
    channels_for,
    is_event_type,
    parse_event,
)
from tests.samples import one_of_each


def test_samples_cover_every_type() -> None:
    assert sorted(e.type for e in one_of_each()) == sorted(EVENT_TYPES)
    assert len(EVENT_TYPES) == 19


@pytest.mark.parametrize("event", one_of_each(), ids=lambda e: e.type)
def test_wire_round_trip_is_exact_and_camel_case(event: object) -> None:
    wire = event.wire()  # type: ignore[attr-defined]
    assert parse_event(json.dumps(wire)) == event
    assert set(wire) == {
        "id",
        "position",
        "type",
        "timestamp",
        "userId",
        "executionId",
        "workflowId",
        "agentId",
        "knowledgeBaseId",
        "data",
    }
    assert all("_" not in key for key in wire["data"])
    assert wire["timestamp"].endswith("Z")


def test_user_input_schema_is_named_schema_on_the_wire() -> None:
    required = next(e for e in one_of_each() if e.type == "user_input:required")
    assert required.wire()["data"]["schema"] == {"enum": ["yes", "no"]}


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"data": {"nodeId": "a", "nodeType": "t", "attempt": 0, "inputs": {}}}, "data.attempt"),
        ({"data": {"nodeType": "t", "attempt": 1, "inputs": {}}}, "data.nodeId"),
        ({"data": {"nodeId": "a", "nodeType": "t", "attempt": 1, "inputs": {}, "x": 1}}, "data.x"),
        ({"userId": ""}, "userId"),
        ({"type": "node:exploded"}, "type"),
    ],
)
def test_invalid_events_name_the_field(patch: dict[str, object], field: str) -> None:
    raw = NodeStarted(
        user_id="u", data={"node_id": "a", "node_type": "t", "attempt": 1, "inputs": {}}
    ).wire()
    raw.update(patch)
    with pytest.raises(InvalidEventError) as caught:
        parse_event(raw)
    assert caught.value.field == field
    assert field in str(caught.value)


def test_events_are_frozen() -> None:
    event = one_of_each()[0]
    with pytest.raises(ValueError, match="frozen"):
        event.user_id = "someone else"  # type: ignore[misc]


def test_channels_follow_the_routing_rule() -> None:
    by_type = {e.type: channels_for(e) for e in one_of_each()}
    assert by_type["node:completed"] == ("user:u1", "execution:ex_1")
    assert by_type["agent:token"] == ("user:u1", "execution:ex_1", "agent:writer:ex_1")
    assert by_type["kb:processing"] == ("user:u1", "kb:kb_1")


def test_app_events_are_an_open_family_with_any_object_data() -> None:
    wire = {
        "type": "app:order.shipped",
        "userId": "u1",
        "executionId": "ex_1",
        "data": {"carrier": "ups", "parcels": [1, None]},
    }
    event = parse_event(wire)
    assert isinstance(event, AppEvent)
    assert parse_event(json.dumps(event.wire())) == event
    assert channels_for(event) == ("user:u1", "execution:ex_1")
    assert is_event_type("app:order.shipped") and not is_event_type("app:Order")


@pytest.mark.parametrize(
    ("type", "data", "field"),
    [
        ("app:", {}, "type"),
        ("app:Upper", {}, "type"),
        ("app:" + "x" * 65, {}, "type"),
        ("app:ok", [1], "data"),
        ("nope", {}, "type"),
    ],
)
def test_bad_app_events_name_the_field(type: str, data: object, field: str) -> None:
    with pytest.raises(InvalidEventError) as err:
        parse_event({"type": type, "userId": "u1", "executionId": "ex_1", "data": data})
    assert err.value.field == field
