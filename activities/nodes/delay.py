"""`delay`: wait, reporting `node:progress`; a retried attempt resumes where the last stopped."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from pydantic import Field

from flowmaestro.activities.nodes.base import NodeConfig, NodeContext, NodeExecutor, NodeResult


class DelayConfig(NodeConfig):
    seconds: float = Field(ge=0, le=7 * 24 * 3600)
    reports: int = Field(default=4, ge=1, le=100)
    """How many `node:progress` events the wait is split into."""


class DelayExecutor(NodeExecutor[DelayConfig]):
    type_name: ClassVar[str] = "delay"
    config_model = DelayConfig

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
