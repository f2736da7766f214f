"""JSON logs: one object a line, with the execution, node and trace ids where they exist."""

from __future__ import annotations

import json
import logging
import sys

from opentelemetry.sdk.trace import TracerProvider

from flowmaestro.log_context import log_fields
from flowmaestro.logs import JsonFormatter


def record(message: str, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("flowmaestro.test", logging.WARNING, __file__, 1, message, (), None)
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def test_a_line_is_one_json_object_with_the_context_ids() -> None:
    formatter = JsonFormatter()
    plain = json.loads(formatter.format(record("plain %s")))
    assert plain["message"] == "plain %s" and plain["level"] == "WARNING"
    assert "execution_id" not in plain and "trace_id" not in plain

    tracer = TracerProvider().get_tracer("test")
    with (
        log_fields(execution_id="ex_1", node_id="n1"),
        tracer.start_as_current_span("work") as span,
    ):
        line = json.loads(formatter.format(record("in a node", attempt=2)))
    context = span.get_span_context()
    assert line["execution_id"] == "ex_1" and line["node_id"] == "n1"
    assert line["trace_id"] == format(context.trace_id, "032x")
    assert line["span_id"] == format(context.span_id, "016x")
    assert line["attempt"] == 2
    # The fields end with their block.
    assert "execution_id" not in json.loads(formatter.format(record("after")))


def test_an_exception_is_carried_in_the_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        rec = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed", (), exc_info=sys.exc_info()
        )
    line = json.loads(JsonFormatter().format(rec))
    assert "ValueError: boom" in line["exception"]
