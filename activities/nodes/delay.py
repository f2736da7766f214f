"""`delay`: wait, reporting `node:progress`; a retried attempt resumes where the last stopped."""

from __future__ import annotations

import asyncio

from flowmaestro.activities.nodes.base import NodeContext, NodeExecutor, NodeResult
from flowmaestro.flows.nodes.delay import Delay, DelayConfig


class DelayExecutor(Delay, NodeExecutor[DelayConfig]):
    async def execute(self, config: DelayConfig, ctx: NodeContext) -> NodeResult:
        done = ctx.resumed_from if isinstance(ctx.resumed_from, int) else 0
        step = config.seconds / config.reports
        for index in range(done + 1, config.reports + 1):
            await asyncio.sleep(step)
            ctx.checkpoint(index)
            await ctx.progress(
                index,
                100 * index / config.reports,
                f"waited {step * index:g}s of {config.seconds:g}s",
            )
        return NodeResult({"waitedSeconds": config.seconds})
