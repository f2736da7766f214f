"""`progress()`: an activity reports how far its current attempt is."""

from __future__ import annotations

import math

from flowmaestro.events.catalogue.node import NodeProgressData
from flowmaestro.temporal.scope import current_attempt


async def progress(percent: float, step: str | None = None) -> None:
    """Emit `node:progress` (0-100, clamped) for the current attempt's node, with an optional
    label of the step. Outside a tracked run's activity it does nothing."""
    scope = current_attempt()
    if scope is None:
        return
    if math.isnan(percent):
        raise ValueError("progress percent is NaN")
    n = scope.next("progress")
    await scope.emitter.emit(
        [
            scope.event(
                (scope.attempt, n),
                NodeProgressData(
                    node_id=scope.node_id,
                    progress=min(max(percent, 0.0), 100.0),
                    step=(step or "")[:200],
                ),
            )
        ]
    )
