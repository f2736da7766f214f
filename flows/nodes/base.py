"""A node type as a flow file sees it: its config model and what the workflow must know of
it before anything runs. The worker's executors (activities/nodes/) extend these."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, JsonValue

from flowmaestro.flows.errors import FlowsError

C = TypeVar("C", bound=BaseModel)


class NodeConfig(BaseModel):
    """Base of every config model: unknown keys are errors, so typos fail at load."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class NodeType(Generic[C]):
    """One node type. Subclasses set `type_name` and `config_model`."""

    type_name: ClassVar[str]
    config_model: ClassVar[type[BaseModel]]
    templated_fields: ClassVar[frozenset[str] | None] = None
    """Config fields that may hold templates; None means every field may."""
    waits_for_input: ClassVar[bool] = False
    """True when the workflow, not the activity, completes the node (after an answer)."""

    @classmethod
    def branch_targets(cls, config: Mapping[str, JsonValue]) -> tuple[str, ...]:
        """Nodes this node may skip (from its raw config); each must list it in `after`."""
        return ()


class UnknownNodeTypeError(FlowsError):
    def __init__(self, node_type: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown node type {node_type!r} (known: {', '.join(known)})")
        self.node_type = node_type
        self.known = known


T = TypeVar("T", bound=NodeType[Any])


class NodeTypes(Mapping[str, type[T]]):
    """Node types by name: the static ones (flows.nodes.NODE_TYPES) or the worker's
    executors (activities.nodes.registry.NODE_TYPES), which extend them."""

    def __init__(self, *types: type[T]) -> None:
        self._by_name = {t.type_name: t for t in types}
        if len(self._by_name) != len(types):
            raise ValueError("two node types share a type_name")

    def __getitem__(self, node_type: str) -> type[T]:
        try:
            return self._by_name[node_type]
        except KeyError:
            raise UnknownNodeTypeError(node_type, tuple(sorted(self._by_name))) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)
