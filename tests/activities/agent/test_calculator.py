"""The calculator tool: arithmetic by a parser, never by eval."""

from __future__ import annotations

import pytest

from flowmaestro.activities.agent.errors import ToolError
from flowmaestro.activities.agent.tools.calculator import Calculator


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("2 ^ 10", 1024),
        ("2 ** 3 ** 2", 512),
        ("-3 ^ 2", -9),
        ("7 // 2 + 7 % 2", 4),
        ("1200 * 0.15", 180),
        ("sqrt(16) + abs(-2) + max(1, 5, 3)", 11),
        ("round(2.675 * 100) / 100", 2.68),
        ("1e3 / 8", 125),
        (".5 + .25", 0.75),
    ],
)
async def test_evaluates(expression: str, value: float) -> None:
    assert await Calculator().call({"expression": expression}) == value


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('true')",
        "().__class__",
        "1 +",
        "(1 + 2",
        "1 / 0",
        "2 ^ 100000",
        "x + 1",
        "1; 2",
        "9" * 2000,
    ],
)
async def test_refuses(expression: str) -> None:
    with pytest.raises(ToolError) as caught:
        await Calculator().call({"expression": expression})
    assert caught.value.type == "invalid_expression"


async def test_needs_a_string_expression() -> None:
    with pytest.raises(ToolError) as caught:
        await Calculator().call({"expression": 3})
    assert caught.value.type == "invalid_arguments"
