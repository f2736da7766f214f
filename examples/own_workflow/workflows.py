"""The order workflow: reserve, summarize, ask for approval, charge."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from flowmaestro.temporal import AskTimeoutError, ask

with workflow.unsafe.imports_passed_through():
    from shared import Order

    from activities import charge_payment, reserve_stock, write_summary


@workflow.defn
class OrderWorkflow:
    @workflow.run
    async def run(self, order: Order) -> dict[str, str]:
        await workflow.execute_activity(
            reserve_stock,
            order,
            start_to_close_timeout=timedelta(seconds=30),
            activity_id="reserve_stock",  # the node's id in the UI (default: a sequence number)
        )
        summary = await workflow.execute_activity(
            write_summary,
            order,
            start_to_close_timeout=timedelta(seconds=30),
            activity_id="write_summary",
        )
        try:
            approved = await ask(
                f"Approve order {order.order_id} for ${order.total:.2f}?",
                input_type="boolean",
                timeout=timedelta(hours=1),
                node_id="approve",
            )
        except AskTimeoutError:
            return {"status": "expired", "summary": summary}
        if not approved:
            return {"status": "rejected", "summary": summary}
        charged = await workflow.execute_activity(
            charge_payment,
            order,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3),
            activity_id="charge_payment",
        )
        return {"status": charged, "summary": summary}
