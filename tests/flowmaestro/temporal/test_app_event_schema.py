"""`flowmaestro schema --app-events MODULE`: the registered custom events as JSON Schema, each
an envelope with its own `type` and its model's `data`; what is emitted matches it."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import jsonschema
import pytest

from flowmaestro.events.envelopes import app_envelope
from tests.support.processes import FLOWMAESTRO

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "own_workflow"


@pytest.mark.slow
def test_the_examples_custom_event_is_exported_typed() -> None:
    # As the docs run it: in the example's directory, a process of its own.
    result = subprocess.run(
        [FLOWMAESTRO, "schema", "--app-events", "activities"],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["oneOf"] == [{"$ref": "#/$defs/AppPaymentCaptured"}]
    event = schema["$defs"]["AppPaymentCaptured"]
    assert event["properties"]["type"] == {"const": "app:payment.captured"}
    assert "title" not in event["properties"]["userId"]
    good = app_envelope(
        "payment.captured",
        {"order_id": "o1", "amount": 2.5, "attempts": 2},
        id=uuid.uuid4(),
        user_id="alice",
        execution_id="order-o1",
    )
    jsonschema.validate(good.wire(), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**good.wire(), "data": {"order_id": "o1"}}, schema)
