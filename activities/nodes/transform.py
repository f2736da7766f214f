"""`transform`: shape data from the execution's inputs and earlier outputs with templates."""

from __future__ import annotations

from flowmaestro.activities.nodes.base import NodeContext, NodeExecutor, NodeResult
from flowmaestro.flows.nodes.transform import Transform, TransformConfig


class TransformExecutor(Transform, NodeExecutor[TransformConfig]):
    async def execute(self, config: TransformConfig, ctx: NodeContext) -> NodeResult:
        return NodeResult(config.output)
