"""Agent tools as a weapon: the calculator fed 300 nested parentheses (RecursionError),
overflow, NaN and infinity, a huge exponent. Every one is a failed `agent:tool_call` the
agent sees and answers about; the node completes, never retried."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.security.conftest import Stack

EXPRESSIONS = [
    "(" * 300 + "1" + ")" * 300,
    "-" * 300 + "1",
    "2^" * 400 + "1",
    "9 ** 999",
    "10 ** 308 * 10",
    "exp(100000)",
    "sqrt(-1)",
    "log(0)",
    "1e308 * 1e308 - 1e308 * 1e308",
    "1 / 0",
]


def calculator_agent(expressions: list[str]) -> dict[str, Any]:
    calls = [{"tool": "calculator", "arguments": {"expression": e}} for e in expressions]
    return {
        "name": "calc",
        "nodes": [
            {
                "id": "a",
                "type": "agent",
                "config": {
                    "prompt": "compute",
                    "tools": ["calculator"],
                    "script": [{"call": calls}, {"say": "done: {0}"}],
                },
            }
        ],
    }


async def test_every_calculator_attack_is_a_failed_tool_call(stack: Stack) -> None:
    events = await stack.during(stack.run("mallory", calculator_agent(EXPRESSIONS)))
    assert events[-1].type == "execution:completed", [e.type for e in events]
    assert not any(e.type == "node:failed" for e in events)
    done = [
        e.envelope["data"]
        for e in events
        if e.type == "agent:tool_call" and e.envelope["data"]["status"] != "started"
    ]
    assert [d["status"] for d in done] == ["failed"] * len(EXPRESSIONS)
    assert {d["error"]["type"] for d in done} == {"invalid_expression"}
    ended = next(e.envelope["data"] for e in events if e.type == "agent:streaming_end")
    assert ended["response"].startswith("done: error: ")
