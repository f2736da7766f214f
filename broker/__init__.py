"""Fan-out of sequenced batches over a broker (NATS or Redis pub/sub), Postgres staying the
truth: the sequencer publishes each batch once (`BrokerPublisher`); gateways receive them
(`BrokeredFeed`), read from Postgres whatever the broker lost, and tail Postgres while the
broker is away. Selected by `FLOWMAESTRO_BROKER_URL`; without it nothing here runs."""

from __future__ import annotations

from flowmaestro.broker.errors import BrokerError, BrokerUnavailable
from flowmaestro.broker.feed import BrokeredFeed
from flowmaestro.broker.link import Link, check_url, open_link
from flowmaestro.broker.message import decode, decode_channels, encode, encode_channels
from flowmaestro.broker.publisher import BrokerPublisher, publishing

__all__ = [
    "BrokerError",
    "BrokerPublisher",
    "BrokerUnavailable",
    "BrokeredFeed",
    "Link",
    "check_url",
    "decode",
    "decode_channels",
    "encode",
    "encode_channels",
    "open_link",
    "publishing",
]
