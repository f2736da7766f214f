"""The OpenAI-compatible provider against a local server speaking the protocol: streamed
text and a tool call, a 429 retried, and a stream cut off mid-way retried as a new attempt."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from flowmaestro.activities.agent.services import AgentServices, Models
from flowmaestro.activities.kb.embedder import Embedders
from flowmaestro.flows.flow import load_flow
from tests.activities.agent.openai_server import Status, Stream, openai_server
from tests.activities.agent.running import agent_shape, agent_worker, rebuilt_text
from tests.workflows.helpers import events_until, shape, start

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer

FLOW = """
name: remote-agent
nodes:
  - id: helper
    type: agent
    retry: {max_attempts: 2, initial_interval_seconds: 0.1}
    config:
      prompt: "What is 6 times 7?"
      system: "Use the calculator."
      tools: [calculator]
"""


def services(http: httpx.AsyncClient, base_url: str) -> AgentServices:
    models = Models(http, base_url=base_url, api_key="sk-test", default_model="test-model")
    return AgentServices(models, Embedders(http))


async def test_streams_text_and_a_tool_call_after_a_429(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    replies: list[Status | Stream] = [
        Status(429),
        Stream(
            text=["Let me ", "check."],
            tool_calls=[("call_abc", "calculator", ['{"expression": ', '"6*7"}'])],
        ),
        Stream(text=["The answer ", "is ", "42."]),
    ]
    client = temporal_env.client
    async with (
        openai_server(replies) as (base_url, bodies),
        httpx.AsyncClient() as http,
        agent_worker(client, pool, http, services(http, base_url)) as queue,
    ):
        execution_id = await start(client, pool, queue, load_flow(FLOW))
        events = await events_until(pool, execution_id)
    assert shape(events)[-1] == ("execution:completed", None)
    assert agent_shape(events) == [
        "agent:streaming_start",
        "agent:token+",
        "agent:tool_call:started",
        "agent:tool_call:completed",
        "agent:token+",
        "agent:streaming_end",
    ]
    calls = [e.envelope["data"] for e in events if e.type == "agent:tool_call"]
    assert [(c["toolCallId"], c["toolName"], c["arguments"]) for c in calls] == [
        ("call_abc", "calculator", {"expression": "6*7"})
    ] * 2
    assert calls[1]["result"] == 42
    end = next(e for e in events if e.type == "agent:streaming_end").envelope["data"]
    assert end["response"] == rebuilt_text(events) == "Let me check.The answer is 42."
    assert (end["tokenCount"], end["finishReason"]) == (5, "stop")
    start_event = next(e for e in events if e.type == "agent:streaming_start")
    assert start_event.envelope["data"]["model"] == "test-model"

    # The 429 was retried with the same request; the third carried the tool's result.
    assert len(bodies) == 3
    assert bodies[0] == bodies[1]
    assert bodies[0]["stream"] is True and bodies[0]["model"] == "test-model"
    assert bodies[0]["tools"][0]["function"]["name"] == "calculator"
    assert [m["role"] for m in bodies[2]["messages"]] == ["system", "user", "assistant", "tool"]
    assistant, tool = bodies[2]["messages"][2:]
    assert assistant["tool_calls"][0]["function"] == {
        "name": "calculator",
        "arguments": '{"expression": "6*7"}',
    }
    assert (tool["tool_call_id"], tool["content"]) == ("call_abc", "42")


async def test_a_stream_cut_off_is_retried_as_a_new_attempt(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    replies = [
        Stream(text=["Half ", "an "], cut_off=True),
        Stream(text=["A whole ", "answer."]),
    ]
    client = temporal_env.client
    async with (
        openai_server(replies) as (base_url, _),
        httpx.AsyncClient() as http,
        agent_worker(client, pool, http, services(http, base_url)) as queue,
    ):
        execution_id = await start(client, pool, queue, load_flow(FLOW))
        events = await events_until(pool, execution_id)
    assert shape(events)[-1] == ("execution:completed", None)
    failed = next(e for e in events if e.type == "node:failed").envelope["data"]
    assert (failed["attempt"], failed["willRetry"]) == (1, True)

    attempts = [
        (e.type, e.envelope["data"].get("attempt")) for e in events if e.type.startswith("agent:")
    ]
    # Attempt 1's stream stops where it broke; attempt 2's follows it, never interleaved.
    first_of_2 = attempts.index(("agent:streaming_start", 2))
    assert all(a == 1 for _, a in attempts[:first_of_2])
    assert all(a == 2 for _, a in attempts[first_of_2:])
    assert ("agent:streaming_end", 1) not in attempts
    assert rebuilt_text(events, attempt=1) == "Half an "
    end = next(e for e in events if e.type == "agent:streaming_end").envelope["data"]
    assert end["response"] == rebuilt_text(events, attempt=2) == "A whole answer."
    assert len({e.envelope["id"] for e in events}) == len(events)
