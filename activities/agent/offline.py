"""The offline model: no network, no weights, deterministic, streamed at a set pace.

Without a script it answers every prompt the same way for the same input. A script makes it
use tools: step N is its N-th turn (what it says, which tools it calls); `{0}`, `{1}`, ... in
what it says are replaced by the results of the tools it called in the previous turn.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING

from flowmaestro.activities.agent.messages import Message, TextDelta, ToolCall, TurnEnd
from flowmaestro.flows.nodes.agent import ScriptStep

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from flowmaestro.activities.agent.messages import StreamItem, ToolSpec

_PLACEHOLDER = re.compile(r"\{(\d+)\}")


class OfflineProvider:
    """A deterministic `ModelProvider` that streams `chunk_chars` characters per chunk."""

    model = "offline"

    def __init__(
        self,
        *,
        script: Sequence[ScriptStep] = (),
        chunk_chars: int = 4,
        chunks_per_second: float = 0,
    ) -> None:
        if chunk_chars < 1:
            raise ValueError("chunk_chars must be at least 1")
        self._script = tuple(script)
        self._chunk_chars = chunk_chars
        self._interval = 1 / chunks_per_second if chunks_per_second > 0 else 0.0

    async def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> AsyncIterator[StreamItem]:
        turn = sum(1 for m in messages if m.role == "assistant")
        results = _latest_tool_results(messages)
        if turn < len(self._script):
            step = self._script[turn]
            text = _fill(step.say, results)
            calls = tuple(
                ToolCall(f"call_{turn}_{i}", c.tool, json.dumps(c.arguments))
                for i, c in enumerate(step.call)
            )
        else:
            text = _default_answer(messages, results)
            calls = ()
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(0, len(text), self._chunk_chars):
            if self._interval:
                # An absolute schedule: an oversleep is caught up, so the pace holds overall.
                await asyncio.sleep(
                    max(0.0, start + (i // self._chunk_chars) * self._interval - loop.time())
                )
            yield TextDelta(text[i : i + self._chunk_chars])
        yield TurnEnd(calls, "tool_calls" if calls else "stop")


def _latest_tool_results(messages: Sequence[Message]) -> list[str]:
    results: list[str] = []
    for m in reversed(messages):
        if m.role != "tool":
            break
        results.append(m.content)
    return results[::-1]


def _fill(text: str, results: list[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        i = int(match.group(1))
        return results[i] if i < len(results) else match.group(0)

    return _PLACEHOLDER.sub(replace, text)


def _default_answer(messages: Sequence[Message], results: list[str]) -> str:
    if results:
        return "Tool results: " + "; ".join(results) + "."
    prompt = next((m.content for m in reversed(messages) if m.role == "user"), "")
    return f"(offline model) You said: {prompt}"
