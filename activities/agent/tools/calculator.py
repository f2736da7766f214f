"""`calculator`: arithmetic through the safe parser in `arithmetic`."""

from __future__ import annotations

from pydantic import JsonValue

from flowmaestro.activities.agent.errors import ToolError
from flowmaestro.activities.agent.messages import ToolSpec
from flowmaestro.activities.agent.tools.arithmetic import evaluate


class Calculator:
    spec = ToolSpec(
        name="calculator",
        description="Evaluate an arithmetic expression: + - * / // % ^, parentheses, "
        "sqrt abs round floor ceil min max log exp, pi and e.",
        parameters={
            "type": "object",
            "properties": {"expression": {"type": "string"}},
            "required": ["expression"],
        },
    )

    async def call(self, arguments: dict[str, JsonValue]) -> JsonValue:
        expression = arguments.get("expression")
        if not isinstance(expression, str):
            raise ToolError("`expression` must be a string", type="invalid_arguments")
        value = evaluate(expression)
        # Integral results read as integers ("180", not "180.0").
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
