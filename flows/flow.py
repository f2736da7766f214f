"""The flow definition: a JSON or YAML document of inputs and nodes, checked on load.

A bad flow (a cycle, an unknown node type, an `after` naming no node, a template referring
to a node that does not precede it, a bad config) raises FlowError naming the node and the
problem, before anything starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Self

import jsonschema
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from flowmaestro.flows.errors import FlowError, FlowInputError
from flowmaestro.flows.graph import Precedence, check_branches, check_node, topological_order
from flowmaestro.flows.limits import check_document, parse_text
from flowmaestro.flows.messages import Visibility
from flowmaestro.flows.retry import RetrySpec
from flowmaestro.security import Limits

InputKind = Literal["string", "number", "integer", "boolean", "object", "array"]


class InputSpec(BaseModel):
    """A declared input; it is required unless it has a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: InputKind = "string"
    default: JsonValue = None
    description: str | None = None

    @property
    def required(self) -> bool:
        return "default" not in self.model_fields_set


class NodeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=100)
    type: str
    config: dict[str, JsonValue] = Field(default_factory=dict)
    after: tuple[str, ...] = ()
    retry: RetrySpec = RetrySpec()
    timeout_seconds: float = Field(default=300, gt=0)
    """One attempt's limit; a timed-out attempt fails with type `timeout` and may retry."""
    heartbeat_timeout_seconds: float | None = Field(default=None, gt=0)
    """When set, a worker that dies mid-node is noticed after this long (not the timeout)."""


class Flow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    visibility: Visibility | None = None
    """Who may watch its executions (docs/teams.md) unless the start says; None: private."""
    inputs: dict[str, InputSpec] = Field(default_factory=dict)
    nodes: tuple[NodeSpec, ...] = Field(min_length=1)

    _order: list[str] = PrivateAttr(default_factory=list)
    _refs: dict[str, frozenset[str]] = PrivateAttr(default_factory=dict)
    _by_id: dict[str, NodeSpec] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Self:
        order = topological_order(self.nodes)
        precedence = Precedence(self.nodes, order)
        all_ids = {n.id for n in self.nodes}
        declared = frozenset(self.inputs)
        self._refs = {n.id: check_node(n, precedence, declared, all_ids) for n in self.nodes}
        check_branches(self.nodes)
        self._order = order
        self._by_id = {n.id: n for n in self.nodes}
        return self

    @property
    def order(self) -> list[str]:
        """Node ids in dependency order (ties in file order)."""
        return self._order

    def node(self, node_id: str) -> NodeSpec:
        return self._by_id[node_id]

    def references(self, node_id: str) -> frozenset[str]:
        """The earlier nodes whose outputs `node_id`'s templates read."""
        return self._refs[node_id]

    def sinks(self) -> list[str]:
        """Nodes nothing waits for: their outputs are the execution's outputs."""
        waited_for = {dep for n in self.nodes for dep in n.after}
        return [n for n in self.order if n not in waited_for]

    def graph(self) -> dict[str, JsonValue]:
        """The nodes and their edges as clients draw them (a condition's branches, an agent's
        id included)."""
        nodes: list[JsonValue] = []
        for n in self.nodes:
            node: dict[str, JsonValue] = {"id": n.id, "type": n.type, "after": list(n.after)}
            if n.type == "agent":
                # Its events' channel is agent:{agentId}:{executionId}; the gateway lets a
                # client subscribe only to the agents its flow has.
                agent_id = n.config.get("agent_id")
                node["agentId"] = agent_id if isinstance(agent_id, str) else n.id
            if n.type == "condition":
                node["branches"] = {
                    key: list(value) if isinstance(value, list) else [value]
                    for key in ("then", "else")
                    if isinstance(value := n.config.get(key, []), (list, str))
                }
            nodes.append(node)
        return {"nodes": nodes}

    def resolve_inputs(self, given: dict[str, JsonValue]) -> dict[str, JsonValue]:
        """`given` checked against the declared inputs, with defaults filled in."""
        for name in given:
            if name not in self.inputs:
                raise FlowInputError(name, f"not declared by flow {self.name!r}")
        resolved: dict[str, JsonValue] = {}
        for name, spec in self.inputs.items():
            if name not in given:
                if spec.required:
                    raise FlowInputError(name, "required")
                resolved[name] = spec.default
                continue
            value = given[name]
            if not jsonschema.Draft202012Validator({"type": spec.type}).is_valid(value):
                raise FlowInputError(name, f"expected {spec.type}, got {value!r}")
            resolved[name] = value
        return resolved


def load_flow(source: str | Path | dict[str, Any], limits: Limits | None = None) -> Flow:
    """Parse and check a flow from a file path, JSON/YAML text, or already-parsed JSON.

    The document's limits (`limits`, default `Limits()`) are checked first, in linear time
    and before anything is built (workflows/flow_limits.py)."""
    limits = limits or Limits()
    if isinstance(source, dict):
        data: Any = source
    else:
        text, name = _text_of(source)
        data = parse_text(text, limits, name)
    check_document(data, limits)
    if not isinstance(data, dict):
        raise FlowError("a flow is a mapping with name, inputs and nodes")
    try:
        return Flow.model_validate(data)
    except ValidationError as exc:
        raise _flow_error(exc, data) from exc


def _text_of(source: str | Path) -> tuple[str, str]:
    """The document's text and the name its errors use (the file's path)."""
    if isinstance(source, str) and ("\n" in source or source.lstrip().startswith("{")):
        return source, "the flow document"
    return Path(source).read_text(), str(source)


def _flow_error(exc: ValidationError, data: dict[str, Any]) -> FlowError:
    """Name the node a schema error is in (by id when it has one) and the field."""
    error = exc.errors(include_url=False)[0]
    loc = list(error["loc"])
    if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int):
        raw = data["nodes"][loc[1]]
        node_id = raw.get("id") if isinstance(raw, dict) else None
        field = ".".join(str(p) for p in loc[2:]) or "node"
        return FlowError(f"{field}: {error['msg']}", str(node_id) if node_id else f"#{loc[1]}")
    return FlowError(f"{'.'.join(str(p) for p in loc) or 'flow'}: {error['msg']}")
