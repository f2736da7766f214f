"""The workflow's own events, as it hands them to `emit_events`: built from typed data, in
the JSON form (key order included) its recorded histories hold. The histories under
tests/workflows/histories pin the rest (tests/workflows/test_replay.py)."""

from __future__ import annotations

from typing import Any

import pytest

from flowmaestro.activities.emit import EventSpec
from flowmaestro.activities.execution import ExecutionRef
from flowmaestro.activities.failure import Failure
from flowmaestro.activities.node_activity import RunNodeInput
from flowmaestro.events.catalogue.common import ErrorInfo
from flowmaestro.events.catalogue.execution import ExecutionFailedData
from flowmaestro.events.catalogue.user_input import UserInputTimeoutData
from flowmaestro.flows.retry import RetrySpec

REQUEST = RunNodeInput(
    execution=ExecutionRef(execution_id="ex_1", user_id="u1", workflow_id="f"),
    node_id="ask",
    node_type="user_input",
    config={},
    context={},
    retry=RetrySpec(),
    timeout_seconds=10,
    completed_nodes=1,
    total_nodes=4,
)


def _as_before(type: str, key: list[str | int], data: dict[str, Any]) -> EventSpec:
    """The spec as the workflow wrote it by hand before its events were typed."""
    return EventSpec(type=type, key=key, data=data)


@pytest.mark.parametrize(
    ("spec", "before"),
    [
        (
            EventSpec.of(
                ("ask", "timeout"),
                Failure("no answer within 5s", "input_timeout", False).node_failed(
                    "ask", "user_input", attempt=1, max_attempts=1, retry_in_ms=None
                ),
            ),
            _as_before(
                "node:failed",
                ["ask", "timeout"],
                {
                    "nodeId": "ask",
                    "nodeType": "user_input",
                    "error": {"message": "no answer within 5s", "type": "input_timeout"},
                    "attempt": 1,
                    "maxAttempts": 1,
                    "willRetry": False,
                    "nextRetryInMs": None,
                },
            ),
        ),
        (
            EventSpec.of(
                ("ask",),
                UserInputTimeoutData(
                    input_id="in_1", node_id="ask", timeout_seconds=5.0, on_timeout="fail"
                ),
            ),
            _as_before(
                "user_input:timeout",
                ["ask"],
                {"inputId": "in_1", "nodeId": "ask", "timeoutSeconds": 5.0, "onTimeout": "fail"},
            ),
        ),
        (
            EventSpec.of(
                (),
                ExecutionFailedData(
                    error=ErrorInfo(message="boom", type="timeout"), failed_node_id="ask"
                ),
            ),
            _as_before(
                "execution:failed",
                [],
                {"error": {"message": "boom", "type": "timeout"}, "failedNodeId": "ask"},
            ),
        ),
        (
            EventSpec.of(("ask", "resumed"), REQUEST.execution_updated("running", 2)),
            _as_before(
                "execution:updated",
                ["ask", "resumed"],
                {
                    "status": "running",
                    "currentNodeId": "ask",
                    "progress": 50.0,
                    "completedNodes": 2,
                    "totalNodes": 4,
                },
            ),
        ),
    ],
    ids=lambda v: v.type if isinstance(v, EventSpec) else "",
)
def test_a_typed_spec_is_byte_for_byte_the_hand_written_one(
    spec: EventSpec, before: EventSpec
) -> None:
    assert spec.model_dump_json() == before.model_dump_json()


def test_a_failure_retried_says_when() -> None:
    failed = Failure("down", "transient_error", True).node_failed(
        "n", "http", attempt=2, max_attempts=3, retry_in_ms=1000
    )
    assert (failed.will_retry, failed.next_retry_in_ms) == (True, 1000)
