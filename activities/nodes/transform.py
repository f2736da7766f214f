"""`transform`: shape data from the execution's inputs and earlier outputs with templates."""

from __future__ import annotations

from typing import ClassVar

from pydantic import JsonValue

from flowmaestro.activities.nodes.base import NodeConfig, NodeContext, NodeExecutor, NodeResult


class TransformConfig(NodeConfig):
    output: JsonValue
    """Any JSON; its templated strings are rendered before the node runs."""


class TransformExecutor(NodeExecutor[TransformConfig]):
    type_name: ClassVar[str] = "transform"
    config_model = TransformConfig

    async def execute(self, config: TransformConfig, ctx: NodeContext) -> NodeResult:
        return NodeResult(config.output)
