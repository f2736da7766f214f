"""`python -m bench._follower DSN [BROKER_URL CHANNEL]`: what a gateway process runs to follow
the outbox, alone: an outbox tail (or, with a broker, a `BrokeredFeed`) that prints the last
position of each page and the wall clock time it arrived (`bench tails`, `bench fanout`).
Light on imports, so that 32 of them start on 2 cores."""

from __future__ import annotations

import asyncio
import sys
import time

import asyncpg

from flowmaestro.broker import BrokeredFeed, open_link
from flowmaestro.events.outbox import Feed, OutboxReader


async def follow(dsn: str, broker: list[str]) -> None:
    async with asyncpg.create_pool(dsn, min_size=1, max_size=2) as pool:
        reader = OutboxReader(pool)
        feed: Feed = reader
        links = []  # held: the running link of a brokered feed
        if broker:
            brokered = BrokeredFeed(reader, open_link(*broker))
            links.append(asyncio.create_task(brokered.run()))
            feed = brokered
        print("ready", flush=True)
        async for page in feed.pages(await reader.head()):
            print(page[-1].position, time.time(), flush=True)


if __name__ == "__main__":
    asyncio.run(follow(sys.argv[1], sys.argv[2:4]))
