"""The execution state row is folded in the statement that writes the events: status and
events commit together, a retried event is not folded twice, values keep their nulls."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from flowmaestro.events import (
    ExecutionFailed,
    ExecutionStarted,
    ExecutionUpdated,
    NodeFailed,
    NodeProgress,
    NodeStarted,
    UserInputReceived,
    UserInputRequired,
)
from flowmaestro.events.execution_state import read_state
from flowmaestro.events.outbox import PostgresEmitter, write_events

if TYPE_CHECKING:
    import asyncpg

    from flowmaestro.events import Event

EX = "ex_fold"


def envelope(**data: Any) -> dict[str, Any]:
    return {"user_id": "u1", "execution_id": EX, "workflow_id": "f", "data": data}


def started() -> Event:
    return ExecutionStarted(
        **envelope(workflow_id="f", status="running", started_at="2026-01-01T00:00:00Z", inputs={})
    )


def waiting() -> Event:
    return ExecutionUpdated(
        **envelope(
            status="waiting", current_node_id="ask", progress=0, completed_nodes=0, total_nodes=2
        )
    )


def required() -> UserInputRequired:
    return UserInputRequired(
        **envelope(
            input_id="in_1",
            node_id="ask",
            prompt="Approve?",
            input_type="boolean",
            schema={"type": "boolean"},
        )
    )


async def state_of(pool: asyncpg.Pool) -> tuple[str, dict[str, Any]]:
    row = await pool.fetchrow("SELECT status, state FROM executions WHERE id = $1", EX)
    assert row is not None
    return row["status"], read_state(json.loads(row["state"]))


async def test_events_fold_into_the_row_with_their_status(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO executions (id, user_id, workflow_id) VALUES ($1, 'u1', 'f')", EX
    )
    emitter = PostgresEmitter(pool)
    ask = NodeStarted(**envelope(node_id="ask", node_type="user_input", attempt=1, inputs={}))
    asked = required()
    await emitter.emit([started(), ask, waiting(), asked])
    status, state = await state_of(pool)
    assert status == "waiting"
    assert state["currentNodeId"] == "ask" and state["totalNodes"] == 2
    assert [n["status"] for n in state["nodes"]] == ["running"]
    # The prompt is kept as announced, nulls included (a merge patch would drop them).
    [prompt] = state["pendingInputs"]
    assert prompt == asked.data.model_dump(mode="json")
    assert prompt["choices"] is None and prompt["schema"] == {"type": "boolean"}

    # A retried write (same ids) inserts nothing and folds nothing.
    await pool.execute("UPDATE executions SET state = state - 'pendingInputs' WHERE id = $1", EX)
    assert await emitter.emit([asked]) == 0
    assert (await state_of(pool))[1]["pendingInputs"] == []
    await pool.execute(
        "UPDATE executions SET state = jsonb_set(state, '{pendingInputs}', $2::jsonb) "
        "WHERE id = $1",
        EX,
        json.dumps({"in_1": [prompt, "2026-01-01T00:00:01+00:00"]}),
    )

    received = UserInputReceived(**envelope(input_id="in_1", node_id="ask"))
    failed = NodeFailed(
        **envelope(
            node_id="ask",
            node_type="user_input",
            error={"message": "boom", "type": "x"},
            attempt=1,
            max_attempts=3,
            will_retry=True,
            next_retry_in_ms=10,
        )
    )
    await emitter.emit([received, failed])
    status, state = await state_of(pool)
    assert state["pendingInputs"] == []
    [node] = state["nodes"]
    assert (node["status"], node["attempt"], node["maxAttempts"]) == ("retrying", 1, 3)
    assert node["lastError"] == {"message": "boom", "type": "x"}

    cancelled = ExecutionFailed(
        **envelope(error={"message": "stop", "type": "cancelled"}, failed_node_id=None)
    )
    await emitter.emit([cancelled])
    status, state = await state_of(pool)
    assert status == "cancelled" and state["error"] == {"message": "stop", "type": "cancelled"}


async def test_status_and_event_commit_together(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO executions (id, user_id, workflow_id) VALUES ($1, 'u1', 'f')", EX
    )
    failed = ExecutionFailed(**envelope(error={"message": "no", "type": "x"}, failed_node_id=None))
    async with pool.acquire() as writer, writer.transaction():
        await write_events(writer, [failed])
        # Another session sees neither the event nor the status before the commit ...
        assert await pool.fetchval("SELECT count(*) FROM event_outbox") == 0
        assert await pool.fetchval("SELECT status FROM executions WHERE id = $1", EX) == "pending"
    # ... and both after it.
    assert await pool.fetchval("SELECT count(*) FROM event_outbox") == 1
    assert await pool.fetchval("SELECT status FROM executions WHERE id = $1", EX) == "failed"


async def test_events_of_unregistered_executions_are_written_without_a_row(
    pool: asyncpg.Pool,
) -> None:
    assert await PostgresEmitter(pool).emit([started(), waiting()]) == 2
    assert await pool.fetchval("SELECT count(*) FROM executions") == 0


async def test_a_batch_folds_the_same_whether_composed_or_event_by_event(
    pool: asyncpg.Pool,
) -> None:
    """All new: the composed patches; one already written: each new event's own patch."""
    for execution_id in ("ex_a", "ex_b"):
        await pool.execute(
            "INSERT INTO executions (id, user_id, workflow_id) VALUES ($1, 'u1', 'f')",
            execution_id,
        )
    asked = required()
    batch: list[Event] = [
        started(),
        NodeStarted(**envelope(node_id="ask", node_type="user_input", attempt=1, inputs={})),
        *[NodeProgress(**envelope(node_id="ask", progress=p, step=str(p))) for p in (10, 20, 30)],
        waiting(),
        asked,
        UserInputReceived(**envelope(input_id="in_1", node_id="ask")),
        NodeStarted(**envelope(node_id="ask", node_type="user_input", attempt=2, inputs={})),
    ]

    def for_execution(execution_id: str) -> list[Event]:
        return [
            e.model_copy(update={"execution_id": execution_id, "id": uuid.uuid4()}) for e in batch
        ]

    emitter = PostgresEmitter(pool)
    assert await emitter.emit(for_execution("ex_a")) == len(batch)
    events_b = for_execution("ex_b")
    await emitter.emit(events_b[:1])
    assert await emitter.emit(events_b) == len(batch) - 1
    states = await pool.fetch("SELECT id, status, state FROM executions ORDER BY id")
    assert states[0]["status"] == states[1]["status"] == "waiting"
    assert states[0]["state"] == states[1]["state"]
    node = read_state(json.loads(states[0]["state"]))["nodes"][0]
    assert (node["attempt"], node["progress"], node["status"]) == (2, None, "running")
