"""Checks of a flow's node graph: ids, `after` edges, cycles, node configs and templates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from activities.errors import TemplateError
from activities.nodes.base import UnknownNodeTypeError
from activities.nodes.registry import NODE_TYPES
from activities.templating import contains_template, references
from workflows.errors import FlowError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from workflows.flow import NodeSpec


def topological_order(nodes: Sequence[NodeSpec]) -> list[str]:
    """Node ids, each after everything in its `after`, ties in file order.

    Raises FlowError on duplicate ids, an `after` naming no node, or a cycle.
    """
    ids: dict[str, NodeSpec] = {}
    for node in nodes:
        if node.id in ids:
            raise FlowError("duplicate node id", node.id)
        ids[node.id] = node
    for node in nodes:
        for dep in node.after:
            if dep not in ids:
                raise FlowError(f"after names no node {dep!r}", node.id)
    order: list[str] = []
    placed: set[str] = set()
    while len(order) < len(nodes):
        ready = [n.id for n in nodes if n.id not in placed and placed.issuperset(n.after)]
        if not ready:
            cycle = _find_cycle(ids)
            raise FlowError(f"cycle in after: {' -> '.join(cycle)}", cycle[0])
        order.extend(ready)
        placed.update(ready)
    return order


def _find_cycle(ids: Mapping[str, NodeSpec]) -> list[str]:
    """A path a -> b -> ... -> a where each node waits for the next (depth-first search)."""
    done: set[str] = set()
    stack: list[str] = []

    def visit(node_id: str) -> list[str] | None:
        stack.append(node_id)
        for dep in ids[node_id].after:
            if dep in stack:
                return [*stack[stack.index(dep) :], dep]
            if dep not in done and (found := visit(dep)):
                return found
        stack.pop()
        done.add(node_id)
        return None

    for node_id in ids:
        if node_id not in done and (found := visit(node_id)):
            return found
    raise AssertionError("no cycle among unplaceable nodes")


def ancestors(nodes: Sequence[NodeSpec], order: Sequence[str]) -> dict[str, frozenset[str]]:
    by_id = {n.id: n for n in nodes}
    result: dict[str, frozenset[str]] = {}
    for node_id in order:
        deps = by_id[node_id].after
        result[node_id] = frozenset(deps).union(*(result[d] for d in deps))
    return result


def check_node(
    node: NodeSpec, preceding: frozenset[str], declared_inputs: frozenset[str], all_ids: set[str]
) -> frozenset[str]:
    """Check one node's type, config and templates; return the nodes its templates read."""
    try:
        executor = NODE_TYPES[node.type]
    except UnknownNodeTypeError as exc:
        raise FlowError(str(exc), node.id) from exc
    templated = {k for k, v in node.config.items() if contains_template(v)}
    allowed = executor.templated_fields
    if allowed is not None and templated - allowed:
        key = sorted(templated - allowed)[0]
        raise FlowError(f"config.{key}: templates are not allowed here", node.id)
    _check_config(node, executor.config_model, templated)
    try:
        refs = references(node.config)
    except TemplateError as exc:
        raise FlowError(f"config: {exc}", node.id) from exc
    for ref in sorted(refs.nodes):
        if ref not in all_ids:
            raise FlowError(f"template refers to unknown node {ref!r}", node.id)
        if ref not in preceding:
            raise FlowError(
                f"template refers to node {ref!r}, which does not precede it (add it to after)",
                node.id,
            )
    for name in sorted(refs.inputs - declared_inputs):
        raise FlowError(f"template refers to undeclared input {name!r}", node.id)
    return refs.nodes


def _check_config(node: NodeSpec, model: Any, templated: set[str]) -> None:
    """Validate the config, ignoring errors in fields whose value is a template."""
    try:
        model.model_validate(node.config)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = error["loc"]
            if loc and loc[0] in templated:
                continue
            where = ".".join(str(p) for p in ("config", *loc))
            raise FlowError(f"{where}: {error['msg']}", node.id) from exc


def check_branches(nodes: Sequence[NodeSpec]) -> None:
    """Every node a node may skip exists and waits for it."""
    by_id = {n.id: n for n in nodes}
    for node in nodes:
        for target in NODE_TYPES[node.type].branch_targets(node.config):
            if target not in by_id:
                raise FlowError(f"branch names no node {target!r}", node.id)
            if node.id not in by_id[target].after:
                raise FlowError(f"branch target {target!r} must list {node.id!r} in after", node.id)
