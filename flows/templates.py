"""The static half of templating: what a flow's templates are and refer to, found without
rendering anything. A flow is checked with this at submission (flows/graph.py, limits.py);
rendering, with its budget and sandbox, is the worker's (activities/templating/).

Every string in a node's config may be a Jinja template over `inputs` and `nodes`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from jinja2 import StrictUndefined, TemplateSyntaxError
from jinja2 import nodes as ast
from jinja2.defaults import DEFAULT_NAMESPACE
from jinja2.sandbox import ImmutableSandboxedEnvironment

from flowmaestro.flows.errors import TemplateError

if TYPE_CHECKING:
    from pydantic import JsonValue

    from flowmaestro.security import Limits

LIMIT = "template_limit"
"""The error type of a template over its budget (size, nesting, time, output, operations)."""

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_BLOCK = re.compile(r"\{%-?\s*(end)?(for|if|macro|call|filter|set|with|block|raw)\b")
ROOT_NAMES = frozenset({"inputs", "nodes"})
GLOBALS = frozenset(DEFAULT_NAMESPACE) - {"lipsum"}
"""The globals a template may call: Jinja's, less `lipsum` (n paragraphs of text: no use in a
flow, a cost to bound). The render environment offers exactly these."""
# Names a template may use without declaring: the globals and Jinja's own.
_KNOWN_NAMES = GLOBALS | {"loop", "caller", "varargs", "kwargs"}
# Parsing only: nothing is compiled or rendered with it.
_PARSER = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


class _ShapeError(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


def contains_template(value: JsonValue) -> bool:
    return any(is_template(s) for s in _strings(value))


def first_template(value: JsonValue) -> str:
    """The first templated string in `value` ("" when none), to name in an error."""
    return next((s for s in _strings(value) if is_template(s)), "")


def _check_shape(text: str, limits: Limits) -> None:
    """Size and nesting, in one linear pass before the parser (which recurses) sees it."""
    if len(text) > limits.max_template_bytes:
        raise _ShapeError(
            f"{len(text)} characters, over {limits.max_template_bytes} "
            "(FLOWMAESTRO_LIMITS__MAX_TEMPLATE_BYTES)"
        )
    depth = 0
    deepest = 0
    for char in text:
        if char in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    blocks = 0
    for match in _BLOCK.finditer(text):
        if match[2] == "set" or match[2] == "raw":
            continue
        blocks += -1 if match[1] else 1
        deepest = max(deepest, blocks)
    if deepest > limits.max_template_nesting:
        raise _ShapeError(
            f"nested {deepest} deep, over {limits.max_template_nesting} "
            "(FLOWMAESTRO_LIMITS__MAX_TEMPLATE_NESTING)"
        )


@dataclasses.dataclass(frozen=True, slots=True)
class References:
    """What a template refers to: `nodes.<id>` and `inputs.<name>`."""

    nodes: frozenset[str]
    inputs: frozenset[str]


def shape_problem(text: str, limits: Limits) -> str | None:
    """What is wrong with a template's size or nesting (one linear pass), or None."""
    try:
        _check_shape(text, limits)
    except _ShapeError as exc:
        return exc.problem
    return None


def references(value: JsonValue) -> References:
    """Every node and input the templates in `value` refer to, found by parsing alone
    (nothing is compiled or evaluated; the tree is walked without recursion). Bound the
    templates' size and nesting first (`shape_problem`), as a flow's check does.

    Raises TemplateError for a syntax error, a template nested too deep to parse
    (`template_limit`), a name other than `inputs`/`nodes` (or one the template declares),
    or a reference that cannot be resolved statically (e.g. `nodes[some_variable]`).
    """
    node_refs: set[str] = set()
    input_refs: set[str] = set()
    for text in _strings(value):
        if not is_template(text):
            continue
        try:
            tree = _PARSER.parse(text)
        except RecursionError:
            raise TemplateError(text, "nested too deep to parse", type=LIMIT) from None
        except TemplateSyntaxError as exc:
            raise TemplateError(text, f"syntax error: {exc.message}") from exc
        _collect(text, tree, node_refs, input_refs)
    return References(frozenset(node_refs), frozenset(input_refs))


def _collect(text: str, tree: ast.Template, node_refs: set[str], input_refs: set[str]) -> None:
    loaded: set[str] = set()
    declared: set[str] = set()
    uses = {"nodes": 0, "inputs": 0}
    children: dict[str, list[str]] = {"nodes": [], "inputs": []}
    for node in walk(tree):
        if isinstance(node, ast.Name):
            if node.ctx == "load":
                loaded.add(node.name)
                if node.name in uses:
                    uses[node.name] += 1
            else:
                declared.add(node.name)
        elif isinstance(node, ast.Macro | ast.CallBlock):
            declared.update(arg.name for arg in node.args)
            if isinstance(node, ast.Macro):
                declared.add(node.name)
        elif isinstance(node, ast.Getattr | ast.Getitem):
            target = node.node
            if isinstance(target, ast.Name) and target.name in children:
                if isinstance(node, ast.Getattr):
                    children[target.name].append(node.attr)
                elif isinstance(node.arg, ast.Const) and isinstance(node.arg.value, str):
                    children[target.name].append(node.arg.value)
    unknown = loaded - declared - ROOT_NAMES - _KNOWN_NAMES
    if unknown:
        raise TemplateError(
            text, f"unknown name {sorted(unknown)[0]!r} (use inputs.<name> or nodes.<id>)"
        )
    for root, found in (("nodes", node_refs), ("inputs", input_refs)):
        if root in declared:
            raise TemplateError(text, f"{root} cannot be assigned")
        if uses[root] != len(children[root]):
            raise TemplateError(text, f"refer to {root} as {root}.<name>")
        found.update(children[root])


def _strings(value: JsonValue) -> Iterator[str]:
    """Every string in `value`, without recursion."""
    stack: list[JsonValue] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))


def walk(tree: ast.Node) -> Iterator[ast.Node]:
    """Every node of `tree`, without recursion (a deep tree cannot overflow the stack)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.iter_child_nodes())
