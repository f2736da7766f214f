"""One connection to a broker's pub/sub on one channel, behind a Protocol; the URL's scheme
picks the broker."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from flowmaestro.broker.errors import BrokerError

if TYPE_CHECKING:
    from collections.abc import Callable


class Link(Protocol):
    """`run` connects, subscribes when given `on_message`, and stays connected (reconnecting)
    until cancelled, reporting each change through `on_state(up, reason)`: up once the
    subscription is live, down with the reason when the connection is lost. At-most-once:
    a message published while a subscriber is away is lost to it."""

    name: str
    max_payload: int
    """The largest message it carries (bytes)."""

    async def run(
        self,
        on_message: Callable[[bytes], None] | None,
        on_state: Callable[[bool, str | None], None],
    ) -> None: ...

    async def publish(self, data: bytes) -> None:
        """Send one message; BrokerUnavailable while not connected."""
        ...


NATS_SCHEMES = ("nats", "tls")
REDIS_SCHEMES = ("redis", "rediss", "unix")


def check_url(url: str) -> str:
    """`url` if its scheme names a broker we speak; BrokerError saying which do if not."""
    scheme = urlsplit(url).scheme
    if scheme not in NATS_SCHEMES + REDIS_SCHEMES:
        raise BrokerError(
            f"unsupported broker URL scheme {scheme!r}: use nats://host:4222 or redis://host:6379/0"
        )
    return url


def open_link(url: str, channel: str, *, retry: float = 1.0, keepalive: float = 1.0) -> Link:
    """A link to the broker at `url` (nats://, tls:// for NATS; redis://, rediss://, unix://
    for Redis) on `channel`. `retry`: seconds between connection attempts; `keepalive`: how
    often an idle connection is checked (a link dead for about three of these is lost)."""
    try:
        if urlsplit(check_url(url)).scheme in NATS_SCHEMES:
            from flowmaestro.broker.nats_link import NatsLink

            return NatsLink(url, channel, retry=retry, keepalive=keepalive)
        from flowmaestro.broker.redis_link import RedisLink

        return RedisLink(url, channel, retry=retry, keepalive=keepalive)
    except ImportError as exc:  # the clients are an extra: a deployment without one
        raise BrokerError(
            f"the broker's client library is not installed ({exc.name}): "
            "pip install 'flowmaestro-realtime[broker]'"
        ) from exc
