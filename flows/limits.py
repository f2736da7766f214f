"""A flow document's limits (`security.Limits`), checked before anything is built from it.

Linear, without recursion, and before YAML composes or pydantic validates the document: its
size, its nesting (deep nesting would make YAML's composer or pydantic recurse), YAML
aliases (refused: "billion laughs"), the node count, and each template's size and nesting
(so the parser that checks references is bounded too). A violation is a FlowError naming
the limit's setting.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from flowmaestro.flows.errors import FlowError
from flowmaestro.flows.templates import is_template, shape_problem
from flowmaestro.security import Limits


def _setting(name: str) -> str:
    return f"FLOWMAESTRO_LIMITS__{name.upper()}"


def _over(what: str, name: str, value: int, maximum: int, node_id: str | None = None) -> FlowError:
    return FlowError(
        f"{what} is {value}, over the limit of {maximum} ({_setting(name)})",
        node_id,
        limit=_setting(name),
    )


def parse_text(text: str, limits: Limits, name: str = "the flow document") -> Any:
    """The document in `text` (YAML or JSON), parsed only once its size and nesting pass;
    a syntax error names `name` (the file) and the line."""
    size = len(text.encode())
    if size > limits.max_flow_bytes:
        raise _over(
            "the flow document's size in bytes", "max_flow_bytes", size, limits.max_flow_bytes
        )
    depth = 0
    try:
        # The event parser is iterative; the composer (safe_load) recurses per level.
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise FlowError("YAML aliases are not allowed in a flow")
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                depth += 1
                if depth > limits.max_flow_depth:
                    raise _over("the nesting", "max_flow_depth", depth, limits.max_flow_depth)
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                depth -= 1
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        # PyYAML names a text stream "<unicode string>": name the file instead.
        for mark in (getattr(exc, "context_mark", None), getattr(exc, "problem_mark", None)):
            if mark is not None:
                mark.name = name
        raise FlowError(f"not valid YAML or JSON: {exc}") from exc


def check_document(data: Any, limits: Limits) -> None:
    """Nesting, size, node count and templates of an already-parsed flow document."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list) and depth > limits.max_flow_depth:
            raise _over("the nesting", "max_flow_depth", depth, limits.max_flow_depth)
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    size = len(json.dumps(data, separators=(",", ":"), default=str).encode())
    if size > limits.max_flow_bytes:
        raise _over(
            "the flow document's size in bytes", "max_flow_bytes", size, limits.max_flow_bytes
        )
    nodes = data.get("nodes") if isinstance(data, dict) else None
    if isinstance(nodes, list) and len(nodes) > limits.max_nodes:
        raise _over("the number of nodes", "max_nodes", len(nodes), limits.max_nodes)
    if isinstance(nodes, list):
        total = 0
        for raw in nodes:
            node_id = str(raw.get("id")) if isinstance(raw, dict) else None
            for text in _templates(raw):
                problem = shape_problem(text, limits)
                if problem is not None:
                    raise FlowError(f"template: {problem}", node_id, limit=_limit_in(problem))
                total += len(text)
        if total > limits.max_flow_template_bytes:
            raise _over(
                "the templates' total size",
                "max_flow_template_bytes",
                total,
                limits.max_flow_template_bytes,
            )


def _templates(value: Any) -> list[str]:
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and is_template(item):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _limit_in(problem: str) -> str | None:
    start = problem.find("FLOWMAESTRO_LIMITS__")
    return problem[start:].rstrip(")") if start >= 0 else None
