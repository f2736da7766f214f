"""Reconnect delays: exponential with full jitter, so clients of a gateway that died do not
all come back at the same instant."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    first: float = 0.25
    most: float = 10.0
    factor: float = 2.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before reconnect attempt `attempt` (0 for the first)."""
        ceiling = min(self.most, self.first * self.factor ** min(attempt, 32))
        return random.uniform(0, ceiling)
