"""Events are built from their typed `data` (events/envelopes.py), and only the model layer
turns a dict into an event."""

from __future__ import annotations

import ast
import typing
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from flowmaestro.events import (
    EVENT_TYPES,
    CatalogueEvent,
    EventData,
    InvalidEventError,
    parse_event,
)
from flowmaestro.events.catalogue.node import NodeProgressData
from flowmaestro.events.envelopes import data_json, data_of, envelope, event_type
from tests.samples import one_of_each

ROOT = Path(__file__).resolve().parents[2]


def test_every_data_model_has_exactly_one_event() -> None:
    data_models = {m.model_fields["data"].annotation for m in typing.get_args(CatalogueEvent)}
    assert data_models == set(typing.get_args(EventData))
    assert len(data_models) == len(EVENT_TYPES)


@pytest.mark.parametrize("event", one_of_each(), ids=lambda e: e.type)
def test_data_in_its_envelope_is_the_event(event: CatalogueEvent) -> None:
    assert event_type(event.data) == event.type
    built = envelope(
        event.data,
        id=event.id,
        user_id=event.user_id,
        execution_id=event.execution_id,
        workflow_id=event.workflow_id,
        agent_id=event.agent_id,
        knowledge_base_id=event.knowledge_base_id,
    )
    assert built == event.model_copy(update={"timestamp": built.timestamp})
    assert parse_event(built.wire()) == built


@pytest.mark.parametrize("event", one_of_each(), ids=lambda e: e.type)
def test_the_json_form_reads_back_as_the_same_data(event: CatalogueEvent) -> None:
    raw = data_json(event.data)
    assert raw == {
        k: datetime.fromisoformat(v).isoformat() if k in {"startedAt", "expiresAt"} and v else v
        for k, v in event.wire()["data"].items()
    }
    assert data_of(event.type, raw) == event.data


def test_the_json_form_keeps_pythons_isoformat_for_recorded_histories() -> None:
    started = next(e for e in one_of_each() if e.type == "execution:started")
    assert data_json(started.data)["startedAt"] == "2026-11-25T19:22:16.123000+00:00"


def test_bad_fields_are_named() -> None:
    with pytest.raises(InvalidEventError) as caught:
        data_of("node:progress", {"nodeId": "n", "progress": 101, "step": "s"})
    assert caught.value.field == "data.progress"
    with pytest.raises(InvalidEventError) as caught:
        data_of("node:exploded", {})
    assert caught.value.field == "type"
    with pytest.raises(InvalidEventError) as caught:
        envelope(NodeProgressData(node_id="n", progress=1, step="s"), id=uuid.uuid4(), user_id="")
    assert caught.value.field == "userId"


# The client parses what it receives; the schema command describes the union.
_MAY_PARSE = {"flowmaestro/client/client.py", "flowmaestro/commands/schema.py"}


def test_only_the_model_layer_turns_dicts_into_events() -> None:
    """Everything else builds the typed `*Data` (a misspelt field is a mypy error)."""
    parsing = set()
    # The layers' folders are reached through symlinks in flowmaestro/, which rglob skips.
    packages = [p for p in (ROOT / "flowmaestro").iterdir() if p.is_dir() and p.name != "events"]
    files = [*(ROOT / "flowmaestro").glob("*.py"), *(f for p in packages for f in p.rglob("*.py"))]
    assert any(f.name == "node_activity.py" for f in files)
    for path in files:
        name = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), name)):
            if isinstance(node, ast.ImportFrom) and any(
                a.name in {"parse_event", "EVENT_ADAPTER"} for a in node.names
            ):
                parsing.add(name)
    assert parsing <= _MAY_PARSE
