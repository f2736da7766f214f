"""Start an order for a user and wait for it: `python run_workflow.py alice`."""

from __future__ import annotations

import asyncio
import sys
import uuid

from shared import TASK_QUEUE, Order
from temporalio.client import Client

from flowmaestro.settings import Settings
from flowmaestro.temporal import FlowMaestroPlugin, start_options
from workflows import OrderWorkflow


async def main(user: str) -> None:
    settings = Settings()
    client = await Client.connect(
        settings.temporal_address or "localhost:7233", plugins=[FlowMaestroPlugin(settings)]
    )
    order = Order(order_id=uuid.uuid4().hex[:6], items=["keyboard", "mouse", "cable"], total=89.5)
    handle = await client.start_workflow(
        OrderWorkflow.run,
        order,
        id=f"order-{order.order_id}",
        task_queue=TASK_QUEUE,
        **start_options(user),
    )
    print(f"execution {handle.id}", flush=True)
    print(f"result {await handle.result()}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "alice"))
