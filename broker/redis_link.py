"""The link over Redis pub/sub (redis-py's asyncio client): at-most-once, in order."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from flowmaestro.broker.errors import BrokerUnavailable, describe

if TYPE_CHECKING:
    from collections.abc import Callable

# Redis has no message limit of its own below 512 MB; big batches are read from Postgres.
MAX_PAYLOAD = 1024 * 1024


class RedisLink:
    name = "redis"
    max_payload = MAX_PAYLOAD

    def __init__(self, url: str, channel: str, *, retry: float, keepalive: float) -> None:
        self._url = url
        self._channel = channel
        self._retry = retry
        self._keepalive = keepalive
        self._client: redis.Redis | None = None

    def _connect(self) -> redis.Redis:
        # No retries inside the client: a lost connection surfaces here, is reported, and
        # the loop connects again (and subscribes again).
        return redis.Redis.from_url(
            self._url,
            socket_connect_timeout=2,
            socket_timeout=3 * self._keepalive,
            retry=Retry(NoBackoff(), 0),
        )

    async def run(
        self,
        on_message: Callable[[bytes], None] | None,
        on_state: Callable[[bool, str | None], None],
    ) -> None:
        while True:
            client = self._connect()
            try:
                if on_message is None:
                    await client.ping()
                    self._client = client
                    on_state(True, None)
                    await self._watch(client)
                else:
                    await self._subscribe(client, on_message, on_state)
            except (redis.RedisError, OSError) as exc:
                on_state(False, describe(exc))
            finally:
                self._client = None
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.aclose(), 2)
            await asyncio.sleep(self._retry)

    async def _watch(self, client: redis.Redis) -> None:
        """A publisher's connection, pinged while idle (a dead one raises)."""
        while True:
            await asyncio.sleep(self._keepalive)
            await client.ping()

    async def _subscribe(
        self,
        client: redis.Redis,
        on_message: Callable[[bytes], None],
        on_state: Callable[[bool, str | None], None],
    ) -> None:
        async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
            await pubsub.subscribe(self._channel)
            on_state(True, None)
            heard = pinged = time.monotonic()
            while True:
                message: dict[str, Any] | None = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=self._keepalive
                )
                now = time.monotonic()
                if message is not None:
                    heard = now
                    if message["type"] == "message":
                        on_message(message["data"])
                if now - heard > 3 * self._keepalive:
                    raise redis.ConnectionError("no answer to pings")
                if now - pinged >= self._keepalive:
                    pinged = now
                    await pubsub.ping()

    async def publish(self, data: bytes) -> None:
        client = self._client
        if client is None:
            raise BrokerUnavailable("Redis is not connected")
        try:
            await client.publish(self._channel, data)
        except (redis.RedisError, OSError) as exc:
            raise BrokerUnavailable(describe(exc)) from exc
