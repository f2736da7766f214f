"""The per-event JSON work of the fan-out, old against new, and the JSON library choice.

- wire text of one event: the old hot path (decode the stored envelope, set its position,
  encode `[type, envelope]` with the standard library) against the new one (splice the
  position into the stored text);
- decoding a stored envelope (HTTP catch-up, snapshots) and an event's channel list:
  orjson against the standard library's json;
- encoding an envelope: orjson against json.

Each case runs the same operation on the same inputs (real envelopes of the catalogue, as
Postgres' jsonb prints them), so only the ratio matters.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import orjson

from bench.harness import Row, Stats
from flowmaestro.events import NodeCompleted, NodeProgress
from flowmaestro.events.channels import channels_for
from flowmaestro.events.outbox.reader import splice

if TYPE_CHECKING:
    from collections.abc import Callable

    from flowmaestro.events.catalogue import Event


def _jsonb_text(event: Event) -> str:
    """The envelope as `envelope::text` returns it (jsonb's own spacing)."""
    return json.dumps(json.loads(event.model_dump_json(exclude={"position"})))


def _events(n: int) -> list[Event]:
    out: list[Event] = []
    for i in range(n):
        out.append(
            NodeProgress(
                user_id="u1",
                execution_id="ex_1",
                workflow_id="bench",
                data={"node_id": "fetch", "progress": i % 101, "step": f"step {i}"},
            )
        )
        out.append(
            NodeCompleted(
                user_id="u1",
                execution_id="ex_1",
                workflow_id="bench",
                data={
                    "node_id": "fetch",
                    "node_type": "http",
                    "outputs": {"status": 200, "body": {"items": list(range(20)), "ok": True}},
                    "duration_ms": 12,
                },
            )
        )
    return out


def _rate(work: Callable[[], object], items: int, rounds: int) -> list[float]:
    """Items per second over `rounds` runs of `work`."""
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        rates.append(items / (time.perf_counter() - start))
    return rates


async def run(quick: bool) -> list[Row]:
    rounds = 3 if quick else 7
    events = _events(2000 if quick else 10_000)
    texts = [_jsonb_text(e) for e in events]
    channels = [json.dumps(channels_for(e)) for e in events]
    n = len(events)

    def old_wire() -> None:
        for i, (e, text) in enumerate(zip(events, texts, strict=True)):
            envelope = json.loads(text)
            envelope["position"] = i
            json.dumps([e.type, envelope], separators=(",", ":"))

    def new_wire() -> None:
        for i, (e, text) in enumerate(zip(events, texts, strict=True)):
            f'2["{e.type}",{splice(i, text)}]'

    decoded = [json.loads(t) for t in texts]
    cases = [
        ("wire text of one event", "splice", new_wire, old_wire, "decode + re-encode (json)"),
        (
            "decode a stored envelope",
            "orjson",
            lambda: [orjson.loads(t) for t in texts],
            lambda: [json.loads(t) for t in texts],
            "json",
        ),
        (
            "decode an event's channels",
            "orjson",
            lambda: [orjson.loads(c) for c in channels],
            lambda: [json.loads(c) for c in channels],
            "json",
        ),
        (
            "encode an envelope",
            "orjson",
            lambda: [orjson.dumps(d) for d in decoded],
            lambda: [json.dumps(d, separators=(",", ":")) for d in decoded],
            "json",
        ),
    ]
    rows = []
    for case, name, ours, base, base_name in cases:
        rows.append(
            Row(
                case,
                name,
                "events/s",
                Stats.of(_rate(ours, n, rounds)),
                Stats.of(_rate(base, n, rounds)),
                base_name,
            )
        )
    return rows
