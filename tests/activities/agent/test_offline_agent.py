"""The offline agent in a flow on a real Temporal dev server and Postgres: the exact events."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import httpx
import pytest

from flowmaestro.flows.flow import load_flow
from tests.activities.agent.running import agent_shape, agent_worker, rebuilt_text
from tests.workflows.helpers import events_until, shape, start

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer

FLOW = """
name: offline-agent
nodes:
  - id: helper
    type: agent
    config:
      agent_id: calc
      model: offline
      prompt: "What is 12 * (3 + 4)?"
      tools: [calculator]
      offline_chunk_chars: 3
      script:
        - say: "Let me compute that. "
          call: [{tool: calculator, arguments: {expression: "12 * (3 + 4)"}}]
        - say: "12 * (3 + 4) = {0}."
"""


@pytest.mark.slow
async def test_offline_agent_streams_calls_a_tool_and_ends(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    client = temporal_env.client
    async with httpx.AsyncClient() as http, agent_worker(client, pool, http) as queue:
        execution_id = await start(client, pool, queue, load_flow(FLOW))
        events = await events_until(pool, execution_id)
    assert shape(events)[-1] == ("execution:completed", None)
    # The offline model pushes a whole turn before the writer runs: one token per turn.
    assert [
        (e.type, e.envelope["data"].get("status") or e.envelope["data"].get("token"))
        for e in events
        if e.type.startswith("agent:")
    ] == [
        ("agent:streaming_start", None),
        ("agent:token", "Let me compute that. "),
        ("agent:tool_call", "started"),
        ("agent:tool_call", "completed"),
        ("agent:token", "12 * (3 + 4) = 84."),
        ("agent:streaming_end", None),
    ]
    types = [e.type for e in events]
    assert types.index("node:started") < types.index("agent:streaming_start")
    assert types.index("agent:streaming_end") < types.index("node:completed")

    agent = [e for e in events if e.type.startswith("agent:")]
    for e in agent:
        assert e.envelope["agentId"] == "calc"
        assert e.channels == ("user:u1", f"execution:{execution_id}", f"agent:calc:{execution_id}")
    start_data = agent[0].envelope["data"]
    assert start_data == {"agentId": "calc", "nodeId": "helper", "model": "offline", "attempt": 1}
    started, completed = (e.envelope["data"] for e in agent[2:4])
    assert started["toolCallId"] == completed["toolCallId"] == "call_0_0"
    assert started["arguments"] == completed["arguments"] == {"expression": "12 * (3 + 4)"}
    assert (started["result"], completed["result"], completed["error"]) == (None, 84, None)
    end = agent[-1].envelope["data"]
    assert end["response"] == rebuilt_text(events) == "Let me compute that. 12 * (3 + 4) = 84."
    assert end["finishReason"] == "stop"
    # Three-character chunks: 7 of the first turn's 21 characters, 6 of the second's 18.
    assert end["tokenCount"] == 7 + 6
    completed_node = next(e for e in events if e.type == "node:completed")
    assert completed_node.envelope["data"]["outputs"]["response"] == end["response"]


async def test_a_failing_tool_call_is_reported_and_the_agent_goes_on(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    flow = FLOW.replace('"12 * (3 + 4)"}}]', '"12 / 0"}}]')
    client = temporal_env.client
    async with httpx.AsyncClient() as http, agent_worker(client, pool, http) as queue:
        execution_id = await start(client, pool, queue, load_flow(flow))
        events = await events_until(pool, execution_id)
    assert agent_shape(events) == [
        "agent:streaming_start",
        "agent:token+",
        "agent:tool_call:started",
        "agent:tool_call:failed",
        "agent:token+",
        "agent:streaming_end",
    ]
    failed = next(e for e in events if e.envelope["data"].get("status") == "failed")
    assert failed.envelope["data"]["error"]["type"] == "invalid_expression"
    # The model was told the error; the offline model repeats what it was told.
    end = (
        events[-1]
        if events[-1].type == "agent:streaming_end"
        else next(e for e in events if e.type == "agent:streaming_end")
    )
    assert "error: " in end.envelope["data"]["response"]
    assert shape(events)[-1] == ("execution:completed", None)


async def test_two_thousand_chunks_in_a_second_reach_the_outbox_coalesced(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    text = "".join(chr(ord("a") + i % 26) for i in range(2000))
    flow = load_flow(
        f"""
name: fast-agent
nodes:
  - id: talker
    type: agent
    config:
      model: offline
      prompt: talk
      offline_chunk_chars: 1
      offline_chunks_per_second: 2000
      script: [{{say: {text}}}]
"""
    )
    client = temporal_env.client
    async with httpx.AsyncClient() as http, agent_worker(client, pool, http) as queue:
        execution_id = await start(client, pool, queue, flow)
        events = await events_until(pool, execution_id)
    tokens = [e for e in events if e.type == "agent:token"]
    start_at, end_at = (
        datetime.fromisoformat(e.envelope["timestamp"])
        for e in events
        if e.type in ("agent:streaming_start", "agent:streaming_end")
    )
    seconds = (end_at - start_at).total_seconds()
    assert seconds >= 0.9  # the model really took about a second
    # At most one token per 50 ms of stream, plus the final flush.
    assert len(tokens) <= seconds / 0.05 + 2, (len(tokens), seconds)
    assert rebuilt_text(events) == text
    end = next(e for e in events if e.type == "agent:streaming_end").envelope["data"]
    assert (end["response"], end["tokenCount"]) == (text, 2000)
