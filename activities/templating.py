"""Sandboxed Jinja templates over an execution's `inputs` and earlier nodes' outputs (`nodes`).

No `eval`: Jinja's SandboxedEnvironment refuses unsafe attribute access, and a missing name
is an error (StrictUndefined), never a silent empty string. A string that is exactly one
`{{ expression }}` renders to the expression's native value (a number stays a number).
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2 import meta
from jinja2 import nodes as ast
from jinja2.sandbox import SandboxedEnvironment

from activities.errors import TemplateError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pydantic import JsonValue


class _JsonEnvironment(SandboxedEnvironment):
    """`a.b` on a JSON object means its key `b` first, so `nodes.x.items` is the data's
    `items`, not the dict method."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


_ENV = _JsonEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
_ONE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}\s*$", re.DOTALL)
ROOT_NAMES = frozenset({"inputs", "nodes"})


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


def contains_template(value: JsonValue) -> bool:
    if isinstance(value, str):
        return is_template(value)
    if isinstance(value, list):
        return any(contains_template(v) for v in value)
    if isinstance(value, dict):
        return any(contains_template(v) for v in value.values())
    return False


def render(value: JsonValue, context: Mapping[str, Any]) -> JsonValue:
    """`value` with every templated string rendered against `context`."""
    if isinstance(value, str):
        return _render_string(value, context) if is_template(value) else value
    if isinstance(value, list):
        return [render(v, context) for v in value]
    if isinstance(value, dict):
        return {k: render(v, context) for k, v in value.items()}
    return value


def _render_string(text: str, context: Mapping[str, Any]) -> JsonValue:
    try:
        match = _ONE_EXPRESSION.match(text)
        if match is None:
            return _ENV.from_string(text).render(context)
        result = _ENV.compile_expression(match["expr"], undefined_to_none=False)(**context)
        if isinstance(result, jinja2.Undefined):
            result._fail_with_undefined_error()
        native: JsonValue = json.loads(json.dumps(result))
        return native
    except jinja2.TemplateError as exc:
        raise TemplateError(text, exc.message or type(exc).__name__) from exc
    except (TypeError, ValueError) as exc:
        raise TemplateError(text, f"not a JSON value: {exc}") from exc


@dataclasses.dataclass(frozen=True, slots=True)
class References:
    """What a template refers to: `nodes.<id>` and `inputs.<name>`."""

    nodes: frozenset[str]
    inputs: frozenset[str]


def references(value: JsonValue) -> References:
    """Every node and input the templates in `value` refer to.

    Raises TemplateError for a syntax error, a name other than `inputs`/`nodes`, or a
    reference that cannot be resolved statically (e.g. `nodes[some_variable]`).
    """
    node_refs: set[str] = set()
    input_refs: set[str] = set()
    for text in _strings(value):
        if not is_template(text):
            continue
        try:
            tree = _ENV.parse(text)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(text, f"syntax error: {exc.message}") from exc
        unknown = meta.find_undeclared_variables(tree) - ROOT_NAMES
        if unknown:
            raise TemplateError(
                text, f"unknown name {sorted(unknown)[0]!r} (use inputs.<name> or nodes.<id>)"
            )
        for root, found in (("nodes", node_refs), ("inputs", input_refs)):
            names = _static_children(tree, root)
            uses = sum(1 for n in tree.find_all(ast.Name) if n.name == root)
            if uses != len(names):
                raise TemplateError(text, f"refer to {root} as {root}.<name>")
            found.update(names)
    return References(frozenset(node_refs), frozenset(input_refs))


def _static_children(tree: ast.Template, root: str) -> list[str]:
    """Names in `root.x` / `root['x']`, one entry per use."""
    found: list[str] = []
    for getattr_node in tree.find_all(ast.Getattr):
        if isinstance(getattr_node.node, ast.Name) and getattr_node.node.name == root:
            found.append(getattr_node.attr)
    for getitem_node in tree.find_all(ast.Getitem):
        if (
            isinstance(getitem_node.node, ast.Name)
            and getitem_node.node.name == root
            and isinstance(getitem_node.arg, ast.Const)
            and isinstance(getitem_node.arg.value, str)
        ):
            found.append(getitem_node.arg.value)
    return found


def _strings(value: JsonValue) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []
