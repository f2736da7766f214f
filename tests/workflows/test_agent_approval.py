"""examples/agent_approval.yaml end to end on a real Temporal dev server and Postgres: the
policy is ingested, the agent finds the rule with kb_search and computes with the calculator
(streamed), and a person's approval finishes the flow."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowmaestro.flows.messages import PROVIDE_INPUT, ProvideInput, ProvideInputResult
from tests.activities.agent.running import agent_shape, rebuilt_text
from tests.workflows.helpers import events_until, example, replay_and_record, start, worker

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer

RESPONSE = (
    "Let me check the refund policy for opened items. "
    "The policy refunds opened items at 85 percent. "
    "The refund for an order of 1200 is 1020."
)


async def test_agent_uses_the_knowledge_base_and_calculator_then_waits_for_approval(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    client = temporal_env.client
    async with worker(client, pool) as queue:
        execution_id = await start(client, pool, queue, example("agent_approval.yaml"))
        asked = await events_until(pool, execution_id, {"user_input:required"})
        prompt = asked[-1].envelope["data"]
        assert prompt["prompt"] == f"Approve the refund? {RESPONSE}"
        await client.get_workflow_handle(execution_id).execute_update(
            PROVIDE_INPUT,
            ProvideInput(input_id=prompt["inputId"], value=True),
            result_type=ProvideInputResult,
        )
        events = await events_until(pool, execution_id)
        await replay_and_record(client, execution_id, "agent_approval")

    types = [e.type for e in events]
    assert types.index("kb:upload_completed") < types.index("agent:streaming_start")
    ingested = next(e for e in events if e.type == "kb:upload_completed").envelope["data"]
    assert ingested["chunkCount"] == ingested["embeddingCount"] >= 1
    assert agent_shape(events) == [
        "agent:streaming_start",
        "agent:token+",
        "agent:tool_call:started",
        "agent:tool_call:completed",
        "agent:token+",
        "agent:tool_call:started",
        "agent:tool_call:completed",
        "agent:token+",
        "agent:streaming_end",
    ]
    search, calculation = (
        e.envelope["data"]
        for e in events
        if e.type == "agent:tool_call" and e.envelope["data"]["status"] == "completed"
    )
    assert search["toolName"] == "kb_search"
    assert "85 percent" in search["result"][0]["content"]
    assert (calculation["arguments"], calculation["result"]) == (
        {"expression": "1200 * 0.85"},
        1020,
    )
    end = next(e for e in events if e.type == "agent:streaming_end").envelope["data"]
    assert end["response"] == rebuilt_text(events) == RESPONSE
    for e in events:
        if e.type.startswith("agent:"):
            assert f"agent:refund-agent:{execution_id}" in e.channels
    assert types.index("agent:streaming_end") < types.index("user_input:required")
    assert events[-1].type == "execution:completed"
    assert events[-1].envelope["data"]["outputs"] == {"decide": {"refund": 1020, "approved": True}}
