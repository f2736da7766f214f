"""The budget of one render: operations, output and the size of what is built.

Every loop iteration, call, filter and operator is an operation; every piece of output and
every string, list or dict built counts against the output limit; a result that would be too
big is refused before it is computed. Going over raises `OverBudgetError`, which rendering
turns into `TemplateError` of type `template_limit`.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import re
import string
from collections.abc import Iterable, Iterator, Sized
from typing import TYPE_CHECKING, Any

from flowmaestro.activities.errors import ActivitiesError
from flowmaestro.security import Limits

if TYPE_CHECKING:
    from collections.abc import Mapping

MAX_INT_BITS = 1 << 16
# A filter or call walks what it is given: one more operation per this many characters or
# items of its arguments, so a loop of `big | wordcount` costs by what it reads.
_WEIGHT_PER_OPERATION = 100
# A printf width or precision of 5+ digits, or taken from an argument (`*`). Linear: each
# attempt stops at the first character outside its classes.
_WIDE_PRINTF = re.compile(r"%[-#0 +]*(\*|\d{5,})|%[-#0 +]*\d*\.(\*|\d{5,})")
_WIDE_SPEC = re.compile(r"\d{5,}|\{")


class OverBudgetError(ActivitiesError):
    """Internal: a render went over its budget; `problem` says which limit."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


CONTAINERS = (list, tuple, dict)


@dataclasses.dataclass(slots=True)
class Budget:
    """What one render has spent of its `limits`."""

    limits: Limits
    operations: int = 0
    output: int = 0
    # Containers already weighed, by id (the object is kept so its id is not reused).
    weights: dict[int, tuple[Any, int]] = dataclasses.field(default_factory=dict)

    def step(self, count: int = 1) -> None:
        self.operations += count
        if self.operations > self.limits.template_max_operations:
            raise OverBudgetError(
                f"more than {self.limits.template_max_operations} operations "
                "(FLOWMAESTRO_LIMITS__TEMPLATE_MAX_OPERATIONS)"
            )

    def size(self, produced: int) -> None:
        self.output += produced
        if self.output > self.limits.template_max_output_chars:
            raise OverBudgetError(
                f"output over {self.limits.template_max_output_chars} characters "
                "(FLOWMAESTRO_LIMITS__TEMPLATE_MAX_OUTPUT_CHARS)"
            )

    def room(self, needed: int) -> None:
        """Refuse, before computing it, a result of `needed` characters or items."""
        if self.output + needed > self.limits.template_max_output_chars:
            raise OverBudgetError(
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
            elif isinstance(item, CONTAINERS):
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
        if isinstance(value, CONTAINERS):
            # Past the cap the count is a lower bound: still enough to refuse or charge.
            self.weights[id(value)] = (value, total)
        return total

    def walk(self, values: Iterable[Any]) -> None:
        """One operation for a filter or call, plus what walking its arguments costs."""
        self.step(1 + sum(self.weight(v) for v in values) // _WEIGHT_PER_OPERATION)

    def charge(self, value: Any) -> Any:
        if isinstance(value, str | bytes):
            self.size(len(value))
        elif isinstance(value, CONTAINERS):
            self.size(self.weight(value))
        elif isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
            raise OverBudgetError(f"an integer over {MAX_INT_BITS} bits")
        return value


_BUDGET: contextvars.ContextVar[Budget] = contextvars.ContextVar("template_budget")


def current_budget() -> Budget:
    """The budget of the render in progress."""
    try:
        return _BUDGET.get()
    except LookupError:
        # Compiling or rendering outside `render` (never done): the default budget.
        budget = Budget(Limits())
        _BUDGET.set(budget)
        return budget


@contextlib.contextmanager
def budget_for(limits: Limits) -> Iterator[Budget]:
    """A fresh budget of `limits` for what renders inside the block."""
    budget = Budget(limits)
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


class _CountedIterator(Iterator[Any]):
    """Each item a loop takes is one operation."""

    def __init__(self, iterable: Iterable[Any]) -> None:
        self._it = iter(iterable)

    def __iter__(self) -> _CountedIterator:
        return self

    def __next__(self) -> Any:
        item = next(self._it)
        current_budget().step()
        return item


def counted(iterable: Iterable[Any]) -> Iterable[Any]:
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


def bounded_range(*args: int) -> range:
    result = range(*args)
    maximum = current_budget().limits.template_max_range
    if len(result) > maximum:
        raise OverBudgetError(
            f"range of {len(result)} items, over {maximum} (FLOWMAESTRO_LIMITS__TEMPLATE_MAX_RANGE)"
        )
    return result


def bounded_args(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """A number that sets a result's size (a width, a count) is bounded by the output."""
    budget = current_budget()
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            budget.room(value)


def check_join(separator: str, items: Any) -> None:
    if isinstance(items, Sized):
        current_budget().room(len(separator) * max(len(items) - 1, 0))


def check_replace(text: Any, old: Any, new: Any, count: Any = -1) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        occurrences = text.count(old) if old else len(text) + 1
        if isinstance(count, int) and count >= 0:
            occurrences = min(occurrences, count)
        current_budget().room(len(text) + occurrences * max(len(new) - len(old), 0))


def check_format(fmt: Any) -> None:
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
        raise OverBudgetError("a format width or precision over 9999")
