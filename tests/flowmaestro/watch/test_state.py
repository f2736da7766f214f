"""The terminal view's state folded from events: node rows, agent text rebuilt from offsets
(a retried attempt starting over), documents, open prompts, the end."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from flowmaestro.watch.render import render
from flowmaestro.watch.state import ExecutionState


def event(kind: str, position: int, **data: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "position": position,
        "timestamp": f"2026-11-25T10:00:{position:02d}.000Z",
        "executionId": "ex_1",
        "agentId": data.pop("agent", None),
        "data": data,
    }


def test_an_execution_folds_into_rows_text_and_outputs() -> None:
    state = ExecutionState("ex_1")
    for e in [
        event("execution:started", 1, workflowId="demo", status="running"),
        event("node:started", 2, nodeId="a", nodeType="agent", attempt=1),
        event("agent:streaming_start", 3, agent="bot", model="offline"),
        event("agent:token", 4, agent="bot", token="Hel", index=0, offset=0),
        event(
            "node:failed", 5, nodeId="a", nodeType="agent", error={"message": "429"}, willRetry=True
        ),
        event("node:started", 6, nodeId="a", nodeType="agent", attempt=2),
        event("agent:streaming_start", 7, agent="bot", model="offline"),
        event("agent:token", 8, agent="bot", token="Hi", index=0, offset=0),
        event("agent:token", 9, agent="bot", token=" there", index=1, offset=2),
        event(
            "agent:tool_call",
            10,
            agent="bot",
            toolName="calculator",
            arguments={"expression": "1+1"},
            status="completed",
            result=2,
        ),
        event("node:completed", 11, nodeId="a", nodeType="agent", durationMs=1500),
        event("kb:upload_started", 12, documentId="d", fileName="p.md"),
        event("kb:processing", 13, documentId="d", step="embedding", progress=50),
        event("user_input:required", 14, inputId="i", nodeId="ok", prompt="Fine?"),
        event("execution:updated", 15, status="waiting", progress=50),
    ]:
        state.apply(e)
    row = state.nodes["a"]
    assert (row.status, row.attempt, row.duration_ms) == ("completed", 2, 1500)
    assert state.agents["bot"].text == "Hi there"
    assert state.agents["bot"].tool_calls == ['calculator({"expression":"1+1"}) -> 2']
    assert state.documents == {"d": "p.md: embedding 50%"}
    assert list(state.prompts) == ["i"]
    assert state.nodes["ok"].status == "waiting for input"
    assert (state.status, state.progress) == ("waiting", 50)

    state.apply(event("user_input:received", 16, inputId="i", nodeId="ok"))
    state.apply(event("execution:completed", 17, outputs={"x": 1}, durationMs=9))
    assert state.prompts == {}
    assert (state.status, state.progress, state.outputs) == ("completed", 100, {"x": 1})

    console = Console(width=120, record=True)
    console.print(render(state))
    screen = console.export_text()
    assert "ex_1" in screen and "completed" in screen and "1.50s" in screen
    assert "Hi there" in screen
    assert 'outputs: {"x": 1}' in screen


def test_document_counts_are_in_words() -> None:
    state = ExecutionState("ex_1")
    for position, (document, chunks) in enumerate([("d1", 1), ("d2", 3)], start=1):
        state.apply(
            event("kb:upload_started", position, documentId=document, fileName=f"{document}.md")
        )
        state.apply(
            event(
                "kb:upload_completed",
                position + 10,
                documentId=document,
                chunkCount=chunks,
                embeddingCount=chunks,
                durationMs=5,
            )
        )
    assert state.documents == {
        "d1": "d1.md: 1 chunk, 1 embedding",
        "d2": "d2.md: 3 chunks, 3 embeddings",
    }


def test_the_prompt_being_answered_shows_once_with_what_is_typed() -> None:
    state = ExecutionState("ex_1")
    state.apply(event("node:started", 1, nodeId="approve", nodeType="user_input", attempt=1))
    state.apply(
        event(
            "user_input:required",
            2,
            inputId="in_1",
            nodeId="approve",
            prompt="Approve 250?",
            inputType="boolean",
            schema={"type": "boolean"},
        )
    )
    console = Console(width=100, record=True)
    console.print(render(state, ("in_1", "Approve 250? [y/n] ye")))
    shown = console.export_text()
    assert shown.count("Approve 250?") == 1
    assert "Approve 250? [y/n] ye" in shown
    assert "approve" in shown and "waiting for input: " not in shown


def test_custom_events_show_the_latest_few() -> None:
    state = ExecutionState("ex_1")
    for n in range(7):
        state.apply(event("app:order.packed", n + 1, boxes=n))
    assert state.custom == [f'order.packed {{"boxes":{n}}}' for n in range(2, 7)]
    console = Console(width=100, record=True)
    console.print(render(state))
    assert 'event  order.packed {"boxes":6}' in console.export_text()
