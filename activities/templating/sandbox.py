"""The sandbox: Jinja's immutable sandbox, with every operator, call, filter, attribute and
item access charged to the render's budget.

No `eval`: the sandbox refuses unsafe attribute access, and a missing name is an error
(StrictUndefined), never a silent empty string. The sandbox alone bounds neither time nor
memory; the budget (budget.py) bounds work and size, the render process (render_pool.py)
time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jinja2
import jinja2.runtime
from jinja2.sandbox import ImmutableSandboxedEnvironment

from flowmaestro.activities.templating.budget import (
    CONTAINERS,
    MAX_INT_BITS,
    OverBudgetError,
    bounded_args,
    bounded_range,
    check_format,
    check_join,
    check_replace,
    counted,
    current_budget,
)
from flowmaestro.activities.templating.codegen import ITER, NoFoldingCodeGenerator
from flowmaestro.flows.templates import GLOBALS

_PASSED = (jinja2.nodes.EvalContext, jinja2.runtime.Context, jinja2.Environment)


def _guarded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        budget = current_budget()
        values = [a for a in args if not isinstance(a, _PASSED)]
        budget.walk((*values, *kwargs.values()))
        if name == "replace" and len(values) >= 3:
            check_replace(*values[:4])
        elif name == "join" and values:
            check_join(str(values[1] if len(values) > 1 else kwargs.get("d", "")), values[0])
        elif name == "format" and values:
            check_format(values[0])
        elif name == "indent" and values and isinstance(values[0], str):
            width = values[1] if len(values) > 1 else kwargs.get("width", 4)
            if isinstance(width, int):
                budget.room(width * (values[0].count("\n") + 1))
        elif name == "tojson":
            indent = values[1] if len(values) > 1 else kwargs.get("indent")
            if isinstance(indent, int) and indent > 16:
                raise OverBudgetError("tojson indent over 16")
        bounded_args(tuple(values[1:]), kwargs)
        return budget.charge(func(*args, **kwargs))

    return guarded


class BudgetEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox (no list or dict is changed in place: `a.extend(a)` would double `a`
    for one operation), with the budget of the render in progress."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    intercepted_unops = frozenset({"-", "+"})
    code_generator_class = NoFoldingCodeGenerator

    def __init__(self) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=False, optimized=False)
        # The globals a flow's check allows (flows/templates.py), and the loop counter.
        for name in set(self.globals) - GLOBALS:
            del self.globals[name]
        self.globals["range"] = bounded_range
        self.globals[ITER] = counted
        self.filters = {name: _guarded_filter(name, f) for name, f in self.filters.items()}

    def built(self, value: Any) -> Any:
        """A list, tuple or dict literal or a `~` concatenation counts like any value built."""
        return current_budget().charge(value)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """`a.b` on a JSON object means its key `b` first, so `nodes.x.items` is the data's
        `items`, not the dict method."""
        current_budget().step()
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        current_budget().step()
        return super().getitem(obj, argument)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = current_budget()
        name = getattr(__obj, "__name__", "")
        # The sandbox hands out str.format wrapped; the string is the wrapped method's self.
        owner = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
        receiver = (owner,) if isinstance(owner, (str, bytes, *CONTAINERS)) else ()
        budget.walk((*receiver, *args, *kwargs.values()))
        if isinstance(owner, str):
            if name == "replace" and len(args) >= 2:
                check_replace(owner, *args[:3])
            elif name == "join" and args:
                check_join(owner, args[0])
            elif name in ("format", "format_map", "__mod__"):
                check_format(owner)
            elif name == "expandtabs":
                size = args[0] if args else kwargs.get("tabsize", 8)
                if isinstance(size, int):
                    budget.room(len(owner) + owner.count("\t") * size)
        if __obj is not counted:
            bounded_args(args, kwargs)
        return budget.charge(super().call(__context, __obj, *args, **kwargs))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget = current_budget()
        budget.step()
        if operator == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0 and abs(left) > 1 and left.bit_length() * right > MAX_INT_BITS:
                raise OverBudgetError(f"an integer over {MAX_INT_BITS} bits")
        elif operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if isinstance(sequence, str | list | tuple) and isinstance(times, int):
                    each = len(sequence) if isinstance(sequence, str) else budget.weight(sequence)
                    budget.room(each * max(times, 0))
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and left.bit_length() + right.bit_length() > MAX_INT_BITS
            ):
                raise OverBudgetError(f"an integer over {MAX_INT_BITS} bits")
        elif operator == "%" and isinstance(left, str):
            check_format(left)
        return budget.charge(super().call_binop(context, operator, left, right))


ENV = BudgetEnvironment()
