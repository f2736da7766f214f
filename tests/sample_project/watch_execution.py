"""Run from the project root: `python watch_execution.py URL TOKEN EXECUTION_ID`.

Checks that the project's own modules are the ones its imports find, then follows an
execution with flowmaestro's public client and prints each event's name, one a line.
"""

from __future__ import annotations

import asyncio
import sys

import activities
import events
import flowmaestro.events
import gateway
import workflows
from flowmaestro.client import Client


async def follow(url: str, token: str, execution_id: str) -> None:
    async with Client(url, token) as client:
        async for event in client.events(execution_id, after=0):
            assert event.type in flowmaestro.events.EVENT_TYPES, event
            print(event.type, flush=True)


def main() -> None:
    for module in (events, workflows, gateway, activities):
        if getattr(module, "OWNER", None) != "sample project":
            raise SystemExit(f"import {module.__name__} found {module.__file__}, not the project's")
    print("own modules: ok", flush=True)
    asyncio.run(follow(*sys.argv[1:4]))


if __name__ == "__main__":
    main()
