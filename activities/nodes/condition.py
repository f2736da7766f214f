"""`condition`: evaluate `if` and skip the nodes of the branch not taken."""

from __future__ import annotations

from flowmaestro.activities.nodes.base import NodeContext, NodeExecutor, NodeResult
from flowmaestro.flows.nodes.condition import Condition, ConditionConfig


class ConditionExecutor(Condition, NodeExecutor[ConditionConfig]):
    async def execute(self, config: ConditionConfig, ctx: NodeContext) -> NodeResult:
        return NodeResult({"result": config.if_}, skip=config.else_ if config.if_ else config.then)
