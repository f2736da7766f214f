"""A node's retry policy as flow files state it, and the backoff Temporal applies to it."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field


class RetrySpec(BaseModel):
    """Temporal's retry policy in flow-file terms. `max_attempts` 0 means unlimited."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(default=3, ge=0)
    initial_interval_seconds: float = Field(default=1.0, gt=0)
    backoff_coefficient: float = Field(default=2.0, ge=1)
    maximum_interval_seconds: float | None = Field(default=None, gt=0)
    """None: 100 times the initial interval, as Temporal's default."""

    def allows_another(self, attempt: int) -> bool:
        """Whether an attempt after `attempt` is allowed (for a retryable failure)."""
        return self.max_attempts == 0 or attempt < self.max_attempts

    def interval_after(self, attempt: int) -> float:
        """Seconds Temporal waits after failed `attempt` before the next one."""
        cap = self.maximum_interval_seconds or 100 * self.initial_interval_seconds
        growth = (attempt - 1) * math.log(self.backoff_coefficient)
        # Compared as logarithms: past the cap the power itself would overflow a float (near
        # attempt 1025 at 2x).
        if growth >= math.log(cap / self.initial_interval_seconds):
            return float(cap)
        return float(self.initial_interval_seconds * self.backoff_coefficient ** (attempt - 1))
