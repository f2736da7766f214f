"""Prometheus metrics of one gateway app, in a registry of its own (tests run several apps)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

if TYPE_CHECKING:
    from collections.abc import Iterator

    from flowmaestro.broker import BrokeredFeed
    from flowmaestro.events.outbox import Availability


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connections = Gauge(
            "flowmaestro_gateway_connections", "Connected Socket.IO clients", registry=r
        )
        self.events_emitted = Counter(
            "flowmaestro_gateway_events_emitted_total",
            "Outbox events fanned out by this gateway",
            ["type"],
            registry=r,
        )
        self.deliveries = Counter(
            "flowmaestro_gateway_deliveries_total",
            "Events queued to one socket (live, replayed or flushed after a replay)",
            registry=r,
        )
        self.failed_deliveries = Counter(
            "flowmaestro_gateway_failed_deliveries_total",
            "Events not delivered to a socket",
            ["reason"],
            registry=r,
        )
        self.reconnects = Counter(
            "flowmaestro_gateway_reconnects_total",
            "Subscribes with `after` (resumes)",
            registry=r,
        )
        self.disconnects = Counter(
            "flowmaestro_gateway_disconnects_total",
            "Socket disconnects by reason",
            ["reason"],
            registry=r,
        )
        self.rejected = Counter(
            "flowmaestro_gateway_rejected_messages_total",
            "Client messages answered with an error, by code",
            ["code"],
            registry=r,
        )
        self.commit_to_emit = Histogram(
            "flowmaestro_gateway_commit_to_emit_seconds",
            "From the outbox row's insert (just before its commit) to its fan-out",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.tail_lag = Gauge(
            "flowmaestro_gateway_tail_lag_events",
            "Sequenced events this gateway has not fanned out yet",
            registry=r,
        )
        self.unsequenced_age = Gauge(
            "flowmaestro_outbox_oldest_unsequenced_seconds",
            "Age of the oldest outbox row without a position",
            registry=r,
        )
        self.outbox_stalled = Gauge(
            "flowmaestro_outbox_stalled",
            "1 while committed rows wait behind an open transaction",
            registry=r,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class AvailabilityCollector:
    """Each dependency's state as this process sees it, read at scrape time."""

    def __init__(self, *dependencies: Availability) -> None:
        self._dependencies = dependencies

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily(
            "flowmaestro_dependency_up",
            "1 while the dependency answers, 0 during an outage",
            labels=["dependency"],
        )
        outages = CounterMetricFamily(
            "flowmaestro_dependency_outages",
            "Outages of the dependency seen by this process",
            labels=["dependency"],
        )
        for dependency in self._dependencies:
            up.add_metric([dependency.name], 1 if dependency.up else 0)
            outages.add_metric([dependency.name], dependency.outages)
        yield up
        yield outages


class BrokerCollector:
    """The broker feed's figures, read at scrape time."""

    def __init__(self, feed: BrokeredFeed) -> None:
        self._feed = feed

    def collect(self) -> Iterator[Any]:
        delivering = GaugeMetricFamily(
            "flowmaestro_gateway_broker_delivering",
            "1 while batches come from the broker, 0 while this gateway tails Postgres",
        )
        delivering.add_metric([], 1 if self._feed.via_broker else 0)
        repairs = CounterMetricFamily(
            "flowmaestro_gateway_broker_repairs",
            "Ranges read from Postgres because the broker missed them, by reason",
            labels=["reason"],
        )
        for reason in ("gap", "large", "overflow", "catch-up"):
            repairs.add_metric([reason], self._feed.repairs[reason])
        rejected = CounterMetricFamily(
            "flowmaestro_gateway_broker_rejected",
            "Broker messages ignored as forged or malformed",
        )
        rejected.add_metric([], self._feed.rejected)
        yield delivering
        yield repairs
        yield rejected
