"""Error hygiene: a library's exception is a clear failure that is not retried; only
transient kinds retry. A tool that raises anything, or hangs, fails its call, not its node."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest
from pydantic import JsonValue
from pypdf.errors import LimitReachedError

from flowmaestro.activities.agent.messages import Message, ToolSpec
from flowmaestro.activities.agent.offline import OfflineProvider
from flowmaestro.activities.agent.runner import AgentRunner
from flowmaestro.activities.agent.stream_events import AgentEvents
from flowmaestro.activities.agent.tools.base import Tool
from flowmaestro.activities.execution import ExecutionRef
from flowmaestro.activities.failure import Failure
from flowmaestro.flows.nodes.agent import ScriptedCall, ScriptStep
from tests.activities.agent.test_runner import Collected


@pytest.mark.parametrize(
    "exc",
    [LimitReachedError("too many objects"), KeyError("x"), ValueError("bad"), RecursionError()],
)
def test_a_library_exception_fails_the_node_at_once(exc: BaseException) -> None:
    failure = Failure.of(exc, 10)
    assert (failure.type, failure.retryable) == ("internal_error", False)
    assert failure.message.startswith(type(exc).__name__)


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionResetError(),
        httpx.ConnectError("refused"),
        asyncpg.exceptions.ConnectionDoesNotExistError("gone"),
        asyncpg.exceptions.CannotConnectNowError("starting"),
        asyncpg.exceptions.DeadlockDetectedError("deadlock"),
    ],
)
def test_transient_exceptions_retry(exc: BaseException) -> None:
    assert Failure.of(exc, 10).retryable


class Broken:
    """A tool with a bug: it raises something that is not a ToolError."""

    spec = ToolSpec(name="broken", description="raises", parameters={"type": "object"})

    async def call(self, arguments: dict[str, JsonValue]) -> JsonValue:
        raise RuntimeError("/etc/secrets is not here")


class Hanging:
    spec = ToolSpec(name="hanging", description="never answers", parameters={"type": "object"})

    async def call(self, arguments: dict[str, JsonValue]) -> JsonValue:
        await asyncio.Event().wait()
        return None


class NotJson:
    spec = ToolSpec(name="nan", description="answers NaN", parameters={"type": "object"})

    async def call(self, arguments: dict[str, JsonValue]) -> JsonValue:
        return float("nan")


async def test_any_tool_failure_is_a_failed_call_the_model_is_told_about() -> None:
    execution = ExecutionRef(execution_id="ex_1", user_id="u1", workflow_id="flow")
    emitter = Collected()
    events = AgentEvents(
        lambda key, data: execution.event(key, data, agent_id="a"),
        emitter,
        agent_id="a",
        node_id="n",
        attempt=1,
    )
    calls = [ScriptedCall(tool=name) for name in ("broken", "hanging", "nan")]
    script = [ScriptStep(call=calls), ScriptStep(say="{0} | {1} | {2}")]
    tools: dict[str, Tool] = {"broken": Broken(), "hanging": Hanging(), "nan": NotJson()}
    result = await AgentRunner(OfflineProvider(script=script), tools, events, tool_timeout=0.2).run(
        [Message("user", "go")]
    )
    types = [c["error"]["type"] for c in result.tool_calls if isinstance(c["error"], dict)]
    assert types == ["tool_failed", "tool_timeout", "tool_failed"]
    # The model hears that it failed, not the exception's text.
    assert "/etc/secrets" not in result.response
    assert result.response.count("error:") == 3
