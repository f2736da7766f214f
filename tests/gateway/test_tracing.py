"""One trace from the activity that wrote an event to the socket that sent it: Temporal's
OpenTelemetry interceptor on the worker, `outbox.emit` around the write, the traceparent
kept beside the event in the outbox (the envelope is unchanged), and the gateway's
`outbox.sequence`, `gateway.fanout` and `socket.send` in the same trace."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor

from flowmaestro.activities.group_commit import GroupCommitEmitter
from tests.gateway.harness import Recorder, serve
from tests.samples import one_of_each
from tests.workflows.helpers import example, start, worker

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer

# The public envelope's keys, as every event has them on the wire.
ENVELOPE_KEYS = set(one_of_each()[0].wire())


def ancestry(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    """The names from `span` up to its root."""
    names = []
    current: ReadableSpan | None = span
    while current is not None:
        names.append(current.name)
        parent = current.parent
        current = by_id.get(parent.span_id) if parent is not None else None
    return names


async def test_one_trace_from_the_activity_emit_to_the_socket_send(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    config = temporal_env.client.config()
    config["interceptors"] = [TracingInterceptor(tracer)]
    traced = Client(**config)
    async with (
        serve(pool, temporal_env.client, tracer=tracer) as gateway,
        worker(traced, pool, GroupCommitEmitter(pool, tracer)) as queue,
    ):
        watcher = await Recorder().connect(gateway.url, "u1")
        execution_id = await start(traced, pool, queue, example("parallel.yaml"), topic="trace")
        await watcher.wait_until(
            lambda r: any(
                e["type"] == "execution:completed" and e["executionId"] == execution_id
                for e in r.events
            )
        )
        await watcher.close()
    provider.shutdown()

    spans = exporter.get_finished_spans()
    by_id = {span.context.span_id: span for span in spans}
    sends = [s for s in spans if s.name == "socket.send"]
    assert sends, [s.name for s in spans]
    completed = [
        s
        for s in sends
        if s.parent is not None
        and (by_id[s.parent.span_id].attributes or {}).get("event.type") == "node:completed"
    ]
    assert completed, "no send of a node:completed in a trace"
    chain = ancestry(completed[0], by_id)
    # socket.send < gateway.fanout < outbox.emit < the activity's span < ... the workflow.
    assert chain[:3] == ["socket.send", "gateway.fanout", "outbox.emit"], chain
    assert chain[3] == "RunActivity:run_node", chain
    assert all(
        by_id[s.parent.span_id].context.trace_id == s.context.trace_id
        for s in spans
        if s.parent is not None and s.parent.span_id in by_id
    )
    sequence = [
        s
        for s in spans
        if s.name == "outbox.sequence" and s.context.trace_id == completed[0].context.trace_id
    ]
    assert sequence, "the sequencing wait is in the trace"
    # The envelope the client got is the public one, with no trace context in it.
    for envelope in watcher.events:
        assert set(envelope) == ENVELOPE_KEYS, set(envelope) - ENVELOPE_KEYS
