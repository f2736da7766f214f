"""A workflow with no FlowMaestro code at all, as a user runs before adding the plugin."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def double(n: int) -> int:
    return 2 * n


@workflow.defn
class PlainWorkflow:
    """No FlowMaestro call at all: what a run recorded before the plugin ran."""

    @workflow.run
    async def run(self, n: int) -> int:
        for _ in range(2):
            n = await workflow.execute_activity(
                double, n, start_to_close_timeout=timedelta(seconds=30)
            )
        return n
