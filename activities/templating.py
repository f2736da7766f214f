"""Sandboxed Jinja templates over an execution's `inputs` and earlier nodes' outputs (`nodes`),
with a budget, because every template is untrusted.

No `eval`: Jinja's SandboxedEnvironment refuses unsafe attribute access, and a missing name
is an error (StrictUndefined), never a silent empty string. A string that is exactly one
`{{ expression }}` renders to the expression's native value (a number stays a number).

The sandbox alone bounds neither time nor memory, so:
- nothing is evaluated at compile time: the environment is `optimized=False` and its code
  generator never folds an output expression into a constant (Jinja would otherwise compute
  `{{ 3**(3*10**7) }}` while compiling);
- checking a flow (`references`) only parses, after bounding the template's size and
  nesting, and walks the tree without recursion;
- rendering has a budget (`Limits.template_*`): every loop iteration, call, filter and
  operator counts; `range()` is bounded; `**`, `*`, `replace`, `join` and padding refuse a
  result that would be too big before computing it; every piece of output and every string
  or list built counts against the output limit. Going over is `TemplateError` with type
  `template_limit`.
The hard bound on time (and memory) is the render process (activities/render_pool.py).
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import json
import re
import string
from collections.abc import Iterable, Iterator, Sized
from typing import TYPE_CHECKING, Any

import jinja2
import jinja2.runtime
from jinja2 import nodes as ast
from jinja2.compiler import CodeGenerator
from jinja2.sandbox import ImmutableSandboxedEnvironment

from flowmaestro.flows.errors import TemplateError
from flowmaestro.flows.templates import LIMIT, is_template, shape_problem, walk
from flowmaestro.security import Limits

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from pydantic import JsonValue

_MAX_INT_BITS = 1 << 16
# A filter or call walks what it is given: one more operation per this many characters or
# items of its arguments, so a loop of `big | wordcount` costs by what it reads.
_WEIGHT_PER_OPERATION = 100
# A printf width or precision of 5+ digits, or taken from an argument (`*`). Linear: each
# attempt stops at the first character outside its classes.
_WIDE_PRINTF = re.compile(r"%[-#0 +]*(\*|\d{5,})|%[-#0 +]*\d*\.(\*|\d{5,})")
_WIDE_SPEC = re.compile(r"\d{5,}|\{")


class _OverBudgetError(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


_CONTAINERS = (list, tuple, dict)


@dataclasses.dataclass(slots=True)
class _Budget:
    limits: Limits
    operations: int = 0
    output: int = 0
    # Containers already weighed, by id (the object is kept so its id is not reused).
    weights: dict[int, tuple[Any, int]] = dataclasses.field(default_factory=dict)

    def step(self, count: int = 1) -> None:
        self.operations += count
        if self.operations > self.limits.template_max_operations:
            raise _OverBudgetError(
                f"more than {self.limits.template_max_operations} operations "
                "(FLOWMAESTRO_LIMITS__TEMPLATE_MAX_OPERATIONS)"
            )

    def size(self, produced: int) -> None:
        self.output += produced
        if self.output > self.limits.template_max_output_chars:
            raise _OverBudgetError(
                f"output over {self.limits.template_max_output_chars} characters "
                "(FLOWMAESTRO_LIMITS__TEMPLATE_MAX_OUTPUT_CHARS)"
            )

    def room(self, needed: int) -> None:
        """Refuse, before computing it, a result of `needed` characters or items."""
        if self.output + needed > self.limits.template_max_output_chars:
            raise _OverBudgetError(
                f"a result of {needed} characters or items is over the output limit "
                "(FLOWMAESTRO_LIMITS__TEMPLATE_MAX_OUTPUT_CHARS)"
            )

    def weight(self, value: Any) -> int:
        """What turning `value` into text or JSON walks: characters, items and digits, an
        item held many times counted each time (`[a] * 9` weighs 9 `a`s, however cheap
        building it was). Stops counting once over the output limit; no recursion."""
        cap = self.limits.template_max_output_chars
        total = 0
        stack = [value]
        while stack and total <= cap:
            item = stack.pop()
            if isinstance(item, str | bytes):
                total += len(item) + 1
            elif isinstance(item, _CONTAINERS):
                known = self.weights.get(id(item))
                if known is not None and known[0] is item:
                    total += known[1]
                    continue
                total += 1
                stack.extend(item.items() if isinstance(item, dict) else item)
            elif isinstance(item, int) and not isinstance(item, bool):
                total += item.bit_length() // 3 + 1
            else:
                total += 1
        if isinstance(value, _CONTAINERS):
            # Past the cap the count is a lower bound: still enough to refuse or charge.
            self.weights[id(value)] = (value, total)
        return total

    def walk(self, values: Iterable[Any]) -> None:
        """One operation for a filter or call, plus what walking its arguments costs."""
        self.step(1 + sum(self.weight(v) for v in values) // _WEIGHT_PER_OPERATION)

    def charge(self, value: Any) -> Any:
        if isinstance(value, str | bytes):
            self.size(len(value))
        elif isinstance(value, _CONTAINERS):
            self.size(self.weight(value))
        elif isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
            raise _OverBudgetError(f"an integer over {_MAX_INT_BITS} bits")
        return value


_BUDGET: contextvars.ContextVar[_Budget] = contextvars.ContextVar("template_budget")


def _budget() -> _Budget:
    try:
        return _BUDGET.get()
    except LookupError:
        # Compiling or rendering outside `render` (never done): the default budget.
        budget = _Budget(Limits())
        _BUDGET.set(budget)
        return budget


class _CountedIterator(Iterator[Any]):
    """Each item a loop takes is one operation."""

    def __init__(self, iterable: Iterable[Any]) -> None:
        self._it = iter(iterable)

    def __iter__(self) -> _CountedIterator:
        return self

    def __next__(self) -> Any:
        item = next(self._it)
        _budget().step()
        return item


def _counted(iterable: Iterable[Any]) -> Iterable[Any]:
    # Sized iterables stay sized (loop.length, loop.last need it): count as they are used.
    if isinstance(iterable, Sized):
        return _CountedSized(iterable)
    return _CountedIterator(iterable)


class _CountedSized(Iterable[Any]):
    def __init__(self, iterable: Any) -> None:
        self._iterable = iterable

    def __len__(self) -> int:
        return len(self._iterable)

    def __iter__(self) -> Iterator[Any]:
        return _CountedIterator(self._iterable)


_ITER = "__fm_counted"


def _bounded_range(*args: int) -> range:
    result = range(*args)
    maximum = _budget().limits.template_max_range
    if len(result) > maximum:
        raise _OverBudgetError(
            f"range of {len(result)} items, over {maximum} (FLOWMAESTRO_LIMITS__TEMPLATE_MAX_RANGE)"
        )
    return result


class _NoFoldingCodeGenerator(CodeGenerator):
    """Never evaluates user expressions while compiling; wraps every loop's iterable so
    its iterations count."""

    def _output_child_to_const(self, node: ast.Expr, frame: Any, finalize: Any) -> str:
        if isinstance(node, ast.TemplateData):
            return str(super()._output_child_to_const(node, frame, finalize))
        raise ast.Impossible()

    def _charged(self, visit: Callable[[Any, Any], None], node: Any, frame: Any) -> None:
        self.write("environment.built(")
        visit(node, frame)
        self.write(")")

    def visit_List(self, node: ast.List, frame: Any) -> None:
        self._charged(super().visit_List, node, frame)

    def visit_Dict(self, node: ast.Dict, frame: Any) -> None:
        self._charged(super().visit_Dict, node, frame)

    def visit_Concat(self, node: ast.Concat, frame: Any) -> None:
        # `a ~ a` builds a string like `a + a` does: charged the same way.
        self._charged(super().visit_Concat, node, frame)

    def visit_Tuple(self, node: ast.Tuple, frame: Any) -> None:
        if node.ctx != "load":  # an assignment's target (`for a, b in ...`)
            super().visit_Tuple(node, frame)
            return
        self._charged(super().visit_Tuple, node, frame)

    def visit_Template(self, node: ast.Template, frame: Any = None) -> None:
        for found in walk(node):
            if isinstance(found, ast.For):
                call = ast.Call(ast.Name(_ITER, "load"), [found.iter], [], None, None)
                found.iter = call.set_lineno(found.lineno).set_environment(self.environment)
        super().visit_Template(node, frame)


def _bounded_args(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """A number that sets a result's size (a width, a count) is bounded by the output."""
    budget = _budget()
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            budget.room(value)


def _check_join(separator: str, items: Any) -> None:
    if isinstance(items, Sized):
        _budget().room(len(separator) * max(len(items) - 1, 0))


def _check_replace(text: Any, old: Any, new: Any, count: Any = -1) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        occurrences = text.count(old) if old else len(text) + 1
        if isinstance(count, int) and count >= 0:
            occurrences = min(occurrences, count)
        _budget().room(len(text) + occurrences * max(len(new) - len(old), 0))


def _check_format(fmt: Any) -> None:
    if not isinstance(fmt, str):
        return
    wide = _WIDE_PRINTF.search(fmt) is not None
    if not wide and "{" in fmt:
        try:
            specs = [spec for _, _, spec, _ in string.Formatter().parse(fmt) if spec]
        except ValueError:
            specs = []  # malformed: str.format itself will refuse it
        wide = any(_WIDE_SPEC.search(spec) for spec in specs)
    if wide:
        raise _OverBudgetError("a format width or precision over 9999")


_PASSED = (jinja2.nodes.EvalContext, jinja2.runtime.Context, jinja2.Environment)


def _guarded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        budget = _budget()
        values = [a for a in args if not isinstance(a, _PASSED)]
        budget.walk((*values, *kwargs.values()))
        if name == "replace" and len(values) >= 3:
            _check_replace(*values[:4])
        elif name == "join" and values:
            _check_join(str(values[1] if len(values) > 1 else kwargs.get("d", "")), values[0])
        elif name == "format" and values:
            _check_format(values[0])
        elif name == "indent" and values and isinstance(values[0], str):
            width = values[1] if len(values) > 1 else kwargs.get("width", 4)
            if isinstance(width, int):
                budget.room(width * (values[0].count("\n") + 1))
        elif name == "tojson":
            indent = values[1] if len(values) > 1 else kwargs.get("indent")
            if isinstance(indent, int) and indent > 16:
                raise _OverBudgetError("tojson indent over 16")
        _bounded_args(tuple(values[1:]), kwargs)
        return budget.charge(func(*args, **kwargs))

    return guarded


class _BudgetEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox (no list or dict is changed in place: `a.extend(a)` would double `a`
    for one operation), with the budget of the render in progress."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    intercepted_unops = frozenset({"-", "+"})
    code_generator_class = _NoFoldingCodeGenerator

    def __init__(self) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=False, optimized=False)
        self.globals["range"] = _bounded_range
        self.globals[_ITER] = _counted
        # lipsum(n) makes n paragraphs of text: no use in a flow, a cost to bound.
        del self.globals["lipsum"]
        self.filters = {name: _guarded_filter(name, f) for name, f in self.filters.items()}

    def built(self, value: Any) -> Any:
        """A list, tuple or dict literal or a `~` concatenation counts like any value built."""
        return _budget().charge(value)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """`a.b` on a JSON object means its key `b` first, so `nodes.x.items` is the data's
        `items`, not the dict method."""
        _budget().step()
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _budget().step()
        return super().getitem(obj, argument)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = _budget()
        name = getattr(__obj, "__name__", "")
        # The sandbox hands out str.format wrapped; the string is the wrapped method's self.
        owner = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
        receiver = (owner,) if isinstance(owner, (str, bytes, *_CONTAINERS)) else ()
        budget.walk((*receiver, *args, *kwargs.values()))
        if isinstance(owner, str):
            if name == "replace" and len(args) >= 2:
                _check_replace(owner, *args[:3])
            elif name == "join" and args:
                _check_join(owner, args[0])
            elif name in ("format", "format_map", "__mod__"):
                _check_format(owner)
            elif name == "expandtabs":
                size = args[0] if args else kwargs.get("tabsize", 8)
                if isinstance(size, int):
                    budget.room(len(owner) + owner.count("\t") * size)
        if __obj is not _counted:
            _bounded_args(args, kwargs)
        return budget.charge(super().call(__context, __obj, *args, **kwargs))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget = _budget()
        budget.step()
        if operator == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0 and abs(left) > 1 and left.bit_length() * right > _MAX_INT_BITS:
                raise _OverBudgetError(f"an integer over {_MAX_INT_BITS} bits")
        elif operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if isinstance(sequence, str | list | tuple) and isinstance(times, int):
                    each = len(sequence) if isinstance(sequence, str) else budget.weight(sequence)
                    budget.room(each * max(times, 0))
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and left.bit_length() + right.bit_length() > _MAX_INT_BITS
            ):
                raise _OverBudgetError(f"an integer over {_MAX_INT_BITS} bits")
        elif operator == "%" and isinstance(left, str):
            _check_format(left)
        return budget.charge(super().call_binop(context, operator, left, right))


_ENV = _BudgetEnvironment()
_ONE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}\s*$", re.DOTALL)


def render(value: JsonValue, context: Mapping[str, Any], limits: Limits) -> JsonValue:
    """`value` with every templated string rendered against `context`, all within one
    budget of `limits`. In-process: call it where a hard timeout bounds it (the render
    pool), or for a template whose cost is tiny."""
    token = _BUDGET.set(_Budget(limits))
    try:
        return _render(value, context)
    finally:
        _BUDGET.reset(token)


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
    return _ENV.from_string(text)


@functools.lru_cache(maxsize=256)
def _compiled_expression(expr: str) -> Any:
    return _ENV.compile_expression(expr, undefined_to_none=False)


def _render_string(text: str, context: Mapping[str, Any]) -> JsonValue:
    budget = _budget()
    try:
        problem = shape_problem(text, budget.limits)
        if problem is not None:
            raise _OverBudgetError(problem)
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
    except _OverBudgetError as exc:
        raise TemplateError(text, exc.problem, type=LIMIT) from None
    except (RecursionError, MemoryError):
        raise TemplateError(text, "too deep or too big to render", type=LIMIT) from None
    except jinja2.TemplateError as exc:
        raise TemplateError(text, exc.message or type(exc).__name__) from exc
    except (TypeError, ValueError, OverflowError, ArithmeticError, LookupError) as exc:
        raise TemplateError(text, f"{type(exc).__name__}: {exc}") from exc
