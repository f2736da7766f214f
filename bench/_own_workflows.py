"""The workflow `bench own_workflow` runs: plain Temporal code, no FlowMaestro in it."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

ACTIVITIES = 50


@activity.defn
async def step(n: int) -> int:
    return n + 1


@workflow.defn
class ChainWorkflow:
    """`ACTIVITIES` trivial activities one after another."""

    @workflow.run
    async def run(self, n: int) -> int:
        for _ in range(ACTIVITIES):
            n = await workflow.execute_activity(
                step, n, start_to_close_timeout=timedelta(seconds=30)
            )
        return n
