"""Prometheus metrics of one gateway app, in a registry of its own (tests run several apps).

Behind `gateway --workers N` the processes share one port, so a scrape reaches any one of
them: they run in prometheus_client's multiprocess mode (the supervisor gives each the same
`PROMETHEUS_MULTIPROC_DIR`, `multiprocess_dir` here), every process writes its values to
files there, and each scrape aggregates all of them. Counters are summed (a dead process's
counts stay, so totals never go back); each gauge says how it combines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from flowmaestro.broker import BrokeredFeed
    from flowmaestro.events.outbox import Availability


class DependencyMetrics:
    """Each dependency's state as this process sees it, recorded when asked (before a
    scrape, and after each probe): `flowmaestro_dependency_up` (the lowest over processes)
    and `flowmaestro_dependency_outages_total`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._up = Gauge(
            "flowmaestro_dependency_up",
            "1 while the dependency answers, 0 during an outage",
            ["dependency"],
            registry=registry,
            multiprocess_mode="livemin",
        )
        self._outages = Counter(
            "flowmaestro_dependency_outages",
            "Outages of the dependency seen by this process",
            ["dependency"],
            registry=registry,
        )
        self._counted: dict[str, int] = {}

    def record(self, *dependencies: Availability) -> None:
        for dependency in dependencies:
            self._up.labels(dependency.name).set(1 if dependency.up else 0)
            counted = self._counted.get(dependency.name, 0)
            self._outages.labels(dependency.name).inc(dependency.outages - counted)
            self._counted[dependency.name] = dependency.outages


class GatewayMetrics:
    def __init__(self, multiprocess_dir: Path | None = None) -> None:
        self.registry = CollectorRegistry()
        self._live = CollectorRegistry()
        self._multiprocess_dir = multiprocess_dir
        r = self.registry
        self.connections = Gauge(
            "flowmaestro_gateway_connections",
            "Connected Socket.IO clients",
            registry=r,
            multiprocess_mode="livesum",
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
            multiprocess_mode="livemax",
        )
        self.unsequenced_age = Gauge(
            "flowmaestro_outbox_oldest_unsequenced_seconds",
            "Age of the oldest outbox row without a position",
            registry=r,
            multiprocess_mode="livemax",
        )
        self.oldest_event = Gauge(
            "flowmaestro_outbox_oldest_event_seconds",
            "Age of the oldest event still in the outbox (prune keeps it under the retention)",
            registry=r,
            multiprocess_mode="livemax",
        )
        self.outbox_stalled = Gauge(
            "flowmaestro_outbox_stalled",
            "1 while committed rows wait behind an open transaction",
            registry=r,
            multiprocess_mode="livemax",
        )

        self.dependencies = DependencyMetrics(r)

    def exposition(self) -> bytes:
        """This process's metrics, or with `multiprocess_dir` every process's, combined."""
        if self._multiprocess_dir is None:
            return generate_latest(self.registry)
        combined = CollectorRegistry()
        MultiProcessCollector(combined, path=str(self._multiprocess_dir))  # type: ignore[no-untyped-call]
        return generate_latest(combined) + generate_latest(self._live)

    def register_live(self, collector: Collector) -> None:
        """A collector read at scrape time from this process's objects (not summed over
        processes: each scrape shows the answering process's figures)."""
        self.registry.register(collector)
        self._live.register(collector)


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
