"""Run the worker: `python run_worker.py` (FLOWMAESTRO_* settings, see README.md)."""

from __future__ import annotations

import asyncio

from shared import TASK_QUEUE
from temporalio.client import Client
from temporalio.worker import Worker

from activities import charge_payment, reserve_stock, write_summary
from flowmaestro.settings import Settings
from flowmaestro.temporal import FlowMaestroPlugin
from workflows import OrderWorkflow


async def main() -> None:
    settings = Settings()
    client = await Client.connect(
        settings.temporal_address or "localhost:7233", plugins=[FlowMaestroPlugin(settings)]
    )
    worker = Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[OrderWorkflow],
        activities=[reserve_stock, write_summary, charge_payment],
    )
    print(f"worker running on task queue {TASK_QUEUE}", flush=True)
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main())
