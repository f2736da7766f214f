"""`render`: a node config's templates, rendered within one budget.

A string that is exactly one `{{ expression }}` renders to the expression's native value (a
number stays a number); any other template renders to text.
"""

from __future__ import annotations

import functools
import json
import re
from typing import TYPE_CHECKING, Any

import jinja2

from flowmaestro.activities.templating.budget import OverBudgetError, budget_for, current_budget
from flowmaestro.activities.templating.sandbox import ENV
from flowmaestro.flows.errors import TemplateError
from flowmaestro.flows.templates import LIMIT, is_template, shape_problem

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pydantic import JsonValue

    from flowmaestro.security import Limits

_ONE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}\s*$", re.DOTALL)


def render(value: JsonValue, context: Mapping[str, Any], limits: Limits) -> JsonValue:
    """`value` with every templated string rendered against `context`, all within one
    budget of `limits`. In-process: call it where a hard timeout bounds it (the render
    pool), or for a template whose cost is tiny."""
    with budget_for(limits):
        return _render(value, context)


def _render(value: JsonValue, context: Mapping[str, Any]) -> JsonValue:
    if isinstance(value, str):
        return _render_string(value, context) if is_template(value) else value
    if isinstance(value, list):
        return [_render(v, context) for v in value]
    if isinstance(value, dict):
        return {k: _render(v, context) for k, v in value.items()}
    return value


@functools.lru_cache(maxsize=256)
def _compiled(text: str) -> jinja2.Template:
    return ENV.from_string(text)


@functools.lru_cache(maxsize=256)
def _compiled_expression(expr: str) -> Any:
    return ENV.compile_expression(expr, undefined_to_none=False)


def _render_string(text: str, context: Mapping[str, Any]) -> JsonValue:
    budget = current_budget()
    try:
        problem = shape_problem(text, budget.limits)
        if problem is not None:
            raise OverBudgetError(problem)
        match = _ONE_EXPRESSION.match(text)
        if match is None:
            pieces: list[str] = []
            for piece in _compiled(text).generate(context):
                budget.size(len(piece))
                pieces.append(piece)
            return "".join(pieces)
        result = _compiled_expression(match["expr"])(**context)
        if isinstance(result, jinja2.Undefined):
            result._fail_with_undefined_error()
        try:
            encoded = json.dumps(result, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TemplateError(text, f"not a JSON value: {exc}") from None
        budget.size(len(encoded))
        native: JsonValue = json.loads(encoded)
        return native
    except OverBudgetError as exc:
        raise TemplateError(text, exc.problem, type=LIMIT) from None
    except (RecursionError, MemoryError):
        raise TemplateError(text, "too deep or too big to render", type=LIMIT) from None
    except jinja2.TemplateError as exc:
        raise TemplateError(text, exc.message or type(exc).__name__) from exc
    except (TypeError, ValueError, OverflowError, ArithmeticError, LookupError) as exc:
        raise TemplateError(text, f"{type(exc).__name__}: {exc}") from exc
