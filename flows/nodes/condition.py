"""The `condition` node's config, as a flow file states it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from pydantic import Field, JsonValue

from flowmaestro.flows.nodes.base import NodeConfig, NodeType


class ConditionConfig(NodeConfig):
    if_: bool = Field(alias="if")
    then: tuple[str, ...] = ()
    """Nodes that run only when `if` is true."""
    else_: tuple[str, ...] = Field(default=(), alias="else")
    """Nodes that run only when `if` is false."""


class Condition(NodeType[ConditionConfig]):
    type_name: ClassVar[str] = "condition"
    config_model = ConditionConfig
    templated_fields = frozenset({"if"})

    @classmethod
    def branch_targets(cls, config: Mapping[str, JsonValue]) -> tuple[str, ...]:
        return tuple(
            str(target)
            for key in ("then", "else")
            for target in (config.get(key) or [])  # type: ignore[union-attr]
        )
