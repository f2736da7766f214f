"""The four kinds of execution an outage must not break (a running node, an agent stream, a
knowledge-base ingestion, a waiting prompt), and the checks that each came through whole."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg

from flowmaestro.flows.messages import PROVIDE_INPUT, ProvideInput, ProvideInputResult

if TYPE_CHECKING:
    from tests.faults.stack import Stack

AGENT_TEXT = " ".join(f"word{i}" for i in range(80))

NODE_FLOW: dict[str, Any] = {
    "name": "fault-node",
    "nodes": [
        {"id": "wait", "type": "delay", "config": {"seconds": 6, "reports": 12}},
        {"id": "after", "type": "transform", "after": ["wait"], "config": {"output": 1}},
    ],
}
AGENT_FLOW: dict[str, Any] = {
    "name": "fault-agent",
    "nodes": [
        {
            "id": "agent",
            "type": "agent",
            "config": {
                "prompt": "Talk.",
                "model": "offline",
                "script": [{"say": AGENT_TEXT}],
                "offline_chunk_chars": 4,
                "offline_chunks_per_second": 25,
            },
        }
    ],
}
KB_FLOW: dict[str, Any] = {
    "name": "fault-kb",
    "nodes": [
        {
            "id": "ingest",
            "type": "kb_ingest",
            "config": {
                "knowledge_base_name": "faults",
                "text": "\n\n".join(f"Paragraph {i}. " + "lorem ipsum " * 40 for i in range(30)),
                "file_name": "notes.md",
            },
        },
    ],
}
PROMPT_FLOW: dict[str, Any] = {
    "name": "fault-prompt",
    "nodes": [
        {"id": "ask", "type": "user_input", "config": {"prompt": "Go?", "input_type": "boolean"}},
        {
            "id": "done",
            "type": "transform",
            "after": ["ask"],
            "config": {"output": "{{ nodes.ask }}"},
        },
    ],
}


@dataclass
class Executions:
    """One execution of each kind, started together and each at its interesting point."""

    node: str
    agent: str
    kb: str
    prompt: str
    input_id: str
    kb_blocker: asyncpg.Connection
    """Holds a lock that stops the ingestion mid-way, in its chunking write, until the
    outage (which ends the lock's session) or `check_all` ends it."""

    @property
    def ids(self) -> list[str]:
        return [self.node, self.agent, self.kb, self.prompt]

    async def answer(self, stack: Stack) -> None:
        """Answer the prompt through Temporal (an Update needs no database)."""
        await stack.client.get_workflow_handle(self.prompt).execute_update(
            PROVIDE_INPUT,
            ProvideInput(input_id=self.input_id, value=True),
            result_type=ProvideInputResult,
        )


async def start_all(stack: Stack) -> Executions:
    """Start the four; return when each is mid-way (its node running, its agent streaming,
    its ingestion held in the write of its chunks, its prompt waiting)."""
    # SHARE blocks the chunks' DELETE and COPY, not the reads: the ingestion writes its
    # text, announces chunking at 50%, then waits in that write, which the outage must meet.
    blocker = await asyncpg.connect(stack.dsn)
    await blocker.execute("BEGIN; LOCK TABLE kb_chunks IN SHARE MODE")
    try:
        node = await stack.start(NODE_FLOW)
        agent = await stack.start(AGENT_FLOW)
        kb = await stack.start(KB_FLOW)
        prompt = await stack.start(PROMPT_FLOW)
        await stack.wait_event(node, ("node:progress",), "wait")
        await stack.wait_event(agent, ("agent:token",))
        await stack.wait_event(kb, ("kb:processing",), data={"step": "chunking", "progress": 50})
        required = await stack.wait_event(prompt, ("user_input:required",))
    except BaseException:
        blocker.terminate()  # or the worker's stop waits for the held ingestion
        raise
    return Executions(node, agent, kb, prompt, required["data"]["inputId"], blocker)


async def check_all(stack: Stack, executions: Executions) -> None:
    """Every execution completed with every node's first attempt, every event once, in the
    outbox and through the HTTP endpoint page by page; positions are dense."""
    # Gone with the outage's sessions, if there was one; else it lets the ingestion go on.
    executions.kb_blocker.terminate()
    for execution_id in executions.ids:
        events = await stack.finished(execution_id)
        assert events[-1]["type"] == "execution:completed", (events[-1], stack.logs())
        await check_once(stack, execution_id, events)
    node = await stack.finished(executions.node)
    assert [e["data"]["progress"] for e in node if e["type"] == "node:progress"] == [
        100 * i / 12 for i in range(1, 13)
    ]
    agent = await stack.finished(executions.agent)
    tokens = sorted(
        (e["data"] for e in agent if e["type"] == "agent:token"), key=lambda d: d["index"]
    )
    assert "".join(t["token"] for t in tokens) == AGENT_TEXT
    assert [t["offset"] for t in tokens] == [
        sum(len(t["token"]) for t in tokens[:i]) for i in range(len(tokens))
    ]
    kinds = Counter(e["type"] for e in agent)
    assert kinds["agent:streaming_start"] == kinds["agent:streaming_end"] == 1
    kb = await stack.finished(executions.kb)
    assert [e["type"] for e in kb].count("kb:upload_completed") == 1
    done = (await stack.finished(executions.prompt))[-1]
    assert done["data"]["outputs"] == {"done": True}
    positions = await stack.query(
        lambda pool: pool.fetch("SELECT position FROM event_outbox ORDER BY position")
    )
    assert [p for (p,) in positions] == list(range(1, len(positions) + 1))


async def check_once(
    stack: Stack, execution_id: str, events: list[dict[str, Any]], index: int = 0
) -> None:
    """No step twice, no retry spent, every node attempt ended; HTTP serves the same events."""
    starts = [
        (e["data"]["nodeId"], e["data"]["attempt"]) for e in events if e["type"] == "node:started"
    ]
    assert all(attempt == 1 for _, attempt in starts), starts
    assert len(set(starts)) == len(starts)
    assert not [e for e in events if e["type"] == "node:failed"]
    completed = Counter(e["data"]["nodeId"] for e in events if e["type"] == "node:completed")
    assert completed == Counter(node for node, _ in starts)
    over_http = await stack.http_events(execution_id, index=index)
    assert [e["id"] for e in over_http] == [e["id"] for e in events]
    assert [e["position"] for e in over_http] == [e["position"] for e in events]
