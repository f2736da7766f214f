"""The link over NATS core pub/sub (nats-py): at-most-once, in order per publisher."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from nats.aio.client import Client
from nats.errors import Error as NatsError

from flowmaestro.broker.errors import BrokerUnavailable, describe

if TYPE_CHECKING:
    from collections.abc import Callable

    from nats.aio.msg import Msg

# The server's default max_payload is 1 MB; what it announces on connect wins.
DEFAULT_MAX_PAYLOAD = 1024 * 1024


class NatsLink:
    name = "nats"

    def __init__(self, url: str, subject: str, *, retry: float, keepalive: float) -> None:
        self._url = url
        self._subject = subject
        self._retry = retry
        self._keepalive = keepalive
        self._client: Client | None = None
        self.max_payload = DEFAULT_MAX_PAYLOAD

    async def run(
        self,
        on_message: Callable[[bytes], None] | None,
        on_state: Callable[[bool, str | None], None],
    ) -> None:
        while True:
            await self._session(on_message, on_state)
            await asyncio.sleep(self._retry)

    async def _session(
        self,
        on_message: Callable[[bytes], None] | None,
        on_state: Callable[[bool, str | None], None],
    ) -> None:
        """One client's life: it reconnects by itself; given up on (and replaced) when it
        closes or stays disconnected for `give_up` seconds, whatever state it is stuck in."""
        client = Client()
        closing = False
        give_up = max(10.0, 5 * (self._retry + self._keepalive))

        async def error(exc: Exception) -> None:
            # Each failed attempt; the state logs one line per change, not one per attempt.
            if not closing:
                on_state(False, describe(exc))

        async def disconnected() -> None:
            if not closing:
                on_state(False, "the connection was lost")

        async def reconnected() -> None:
            # Subscriptions are sent again before this runs.
            on_state(True, None)

        async def received(msg: Msg) -> None:
            assert on_message is not None
            on_message(msg.data)

        try:
            await asyncio.wait_for(
                client.connect(
                    self._url,
                    error_cb=error,
                    disconnected_cb=disconnected,
                    reconnected_cb=reconnected,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=self._retry,  # type: ignore[arg-type]  # a float sleeps fine
                    connect_timeout=2,
                    # A link cut without a reset is noticed after a few missed pings.
                    ping_interval=self._keepalive,  # type: ignore[arg-type]
                    max_outstanding_pings=2,
                    # While reconnecting nothing is buffered: publish refuses instead.
                    pending_size=0,
                ),
                give_up,
            )
            self.max_payload = client.max_payload or DEFAULT_MAX_PAYLOAD
            if on_message is not None:
                await client.subscribe(self._subject, cb=received)
                await client.flush()
            self._client = client
            on_state(True, None)
            down_since: float | None = None
            loop = asyncio.get_running_loop()
            while not client.is_closed:
                await asyncio.sleep(self._keepalive)
                if client.is_connected:
                    down_since = None
                elif down_since is None:
                    down_since = loop.time()
                elif loop.time() - down_since > give_up:
                    on_state(False, "reconnecting took too long: starting a new connection")
                    return
            on_state(False, "the connection closed")
        except (TimeoutError, OSError, NatsError) as exc:
            on_state(False, describe(exc))
        finally:
            self._client = None
            closing = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), 2)

    async def publish(self, data: bytes) -> None:
        client = self._client
        if client is None or not client.is_connected:
            raise BrokerUnavailable("NATS is not connected")
        try:
            await client.publish(self._subject, data)
        except NatsError as exc:  # lost in between, or the message is over the limit
            raise BrokerUnavailable(describe(exc)) from exc
