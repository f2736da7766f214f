"""The tool-calling loop on its own (events collected in memory): the step limit, unknown
tools, bad arguments, and the order of what it emits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowmaestro.activities.agent.messages import Message, ToolCall, TurnEnd
from flowmaestro.activities.agent.offline import OfflineProvider
from flowmaestro.activities.agent.runner import AgentRunner
from flowmaestro.activities.agent.stream_events import AgentEvents
from flowmaestro.activities.agent.tools.calculator import Calculator
from flowmaestro.activities.execution import ExecutionRef
from flowmaestro.events import AgentStreamingEnd, AgentToolCall
from flowmaestro.flows.nodes.agent import ScriptedCall, ScriptStep

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from flowmaestro.activities.agent.messages import StreamItem, ToolSpec
    from flowmaestro.activities.agent.provider import ModelProvider
    from flowmaestro.events import Event


class Collected:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def emit(self, events: Sequence[Event]) -> int:
        self.events.extend(events)
        return len(events)


def runner(provider: ModelProvider, emitter: Collected, max_steps: int = 8) -> AgentRunner:
    execution = ExecutionRef(execution_id="ex_1", user_id="u1", workflow_id="flow")
    events = AgentEvents(
        lambda key, data: execution.event(key, data, agent_id="a"),
        emitter,
        agent_id="a",
        node_id="n",
        attempt=1,
    )
    return AgentRunner(provider, {"calculator": Calculator()}, events, max_steps=max_steps)


async def test_the_step_limit_ends_the_run() -> None:
    looping = [
        ScriptStep(
            say="again ", call=[ScriptedCall(tool="calculator", arguments={"expression": "1+1"})]
        )
    ] * 5
    emitter = Collected()
    result = await runner(OfflineProvider(script=looping), emitter, max_steps=2).run(
        [Message("user", "go")]
    )
    assert (result.finish_reason, result.response, len(result.tool_calls)) == (
        "max_steps",
        "again again ",
        2,
    )
    end = emitter.events[-1]
    assert isinstance(end, AgentStreamingEnd)
    assert end.data.model_dump() == {
        "response": "again again ",
        "tokenCount": 4,
        "finishReason": "max_steps",
        "attempt": 1,
    }


class BadCalls:
    """A model that asks for an unknown tool and gives unparseable arguments, then answers."""

    model = "bad-calls"

    async def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> AsyncIterator[StreamItem]:
        if messages[-1].role == "user":
            yield TurnEnd(
                (ToolCall("c1", "weather", "{}"), ToolCall("c2", "calculator", "{not json")),
                "tool_calls",
            )
        else:
            yield TurnEnd((), "stop")


async def test_unknown_tools_and_bad_arguments_fail_and_the_model_is_told() -> None:
    emitter = Collected()
    messages = [Message("user", "go")]
    result = await runner(BadCalls(), emitter).run(messages)
    failed = [
        e.data for e in emitter.events if isinstance(e, AgentToolCall) and e.data.status == "failed"
    ]
    errors = [f.error for f in failed if f.error is not None]
    assert [f.tool_call_id for f in failed] == ["c1", "c2"]
    assert [e.type for e in errors] == ["unknown_tool", "invalid_arguments"]
    assert failed[1].arguments == {"raw": "{not json"}
    assert [m.content for m in messages if m.role == "tool"] == [
        "error: no tool named 'weather'",
        f"error: {errors[1].message}",
    ]
    assert (result.response, result.finish_reason) == ("", "stop")
    assert [e.type for e in emitter.events] == [
        "agent:streaming_start",
        *["agent:tool_call"] * 4,
        "agent:streaming_end",
    ]
    # Every event id is distinct (attempt, kind and index are in the id).
    assert len({e.id for e in emitter.events}) == len(emitter.events)
