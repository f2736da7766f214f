"""A Python client of the gateway: typed events of any channel, resumed by position across
dropped connections and gateway restarts, and answers to prompts.

    async with Client(url, token) as client:
        async for event in client.events(execution_id, after=0):
            ...
"""

from flowmaestro.client.backoff import Backoff
from flowmaestro.client.client import Client, TokenSource
from flowmaestro.client.errors import ClientError, RefusedError, SubscribeError
from flowmaestro.client.subscription import channel_of

__all__ = [
    "Backoff",
    "Client",
    "ClientError",
    "RefusedError",
    "SubscribeError",
    "TokenSource",
    "channel_of",
]
