"""The cost of rendering a node's templates in a render process (hard timeout, killable)
against rendering them in-process with the same budget: per render, for a one-expression
config and a mixed-text config of a typical node.

Both render the same configs with the same context; only the ratio matters. The process
path adds two pipe hops and JSON framing per render; a config without templates skips it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bench.harness import Row, Stats
from flowmaestro.activities.render_pool import RenderPool
from flowmaestro.activities.templating import render
from flowmaestro.security import Limits

if TYPE_CHECKING:
    from pydantic import JsonValue

CONTEXT: dict[str, JsonValue] = {
    "inputs": {"name": "Ada", "amount": 120, "items": list(range(20))},
    "nodes": {"fetch": {"status": 200, "body": {"rows": [{"id": i} for i in range(20)]}}},
}
CONFIGS: dict[str, JsonValue] = {
    "one expression": {"output": "{{ inputs.amount * 2 }}"},
    "mixed text and a loop": {
        "prompt": "Dear {{ inputs.name }}, {% for r in nodes.fetch.body.rows %}{{ r.id }},"
        "{% endfor %} total {{ inputs.items | sum }}",
        "url": "https://api.example.com/{{ inputs.name | lower }}",
    },
}


async def run(quick: bool) -> list[Row]:
    rounds = 5 if quick else 15
    per_round = 100 if quick else 400
    limits = Limits()
    rows: list[Row] = []
    async with RenderPool(limits) as pool:
        for case, config in CONFIGS.items():
            await pool.render(config, CONTEXT)  # start the process, compile the templates
            render(config, CONTEXT, limits)
            pooled: list[float] = []
            local: list[float] = []
            for _ in range(rounds):
                started = time.perf_counter()
                for _ in range(per_round):
                    await pool.render(config, CONTEXT)
                pooled.append((time.perf_counter() - started) / per_round * 1e6)
                started = time.perf_counter()
                for _ in range(per_round):
                    render(config, CONTEXT, limits)
                local.append((time.perf_counter() - started) / per_round * 1e6)
            rows.append(
                Row(
                    case,
                    "per render",
                    "us",
                    Stats.of(pooled),
                    Stats.of(local),
                    "in-process (no timeout)",
                )
            )
    return rows
