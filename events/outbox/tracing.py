"""An event's trace context travels beside it in the outbox (`trace_context`, a W3C
traceparent), never in its envelope: the writer records the span it wrote under, and a
gateway continues that trace when it fans the event out (OpenTelemetry's API only; it is a
no-op until the process installs a TracerProvider)."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()
TRACER = "flowmaestro"
"""The instrumentation name of every span the project starts."""


def current_traceparent() -> str | None:
    """The current span's traceparent, if it is sampled."""
    span = trace.get_current_span().get_span_context()
    if not (span.is_valid and span.trace_flags.sampled):
        return None
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def context_of(traceparent: str) -> Context:
    """The context to start a span under, continuing `traceparent`'s trace."""
    return _PROPAGATOR.extract({"traceparent": traceparent})
