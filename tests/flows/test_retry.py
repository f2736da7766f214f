"""The backoff a node's retry policy gives: Temporal's, capped, for any attempt number."""

from __future__ import annotations

import pytest

from flowmaestro.flows.retry import RetrySpec


@pytest.mark.parametrize(
    ("spec", "attempt", "seconds"),
    [
        (RetrySpec(), 1, 1.0),
        (RetrySpec(), 3, 4.0),
        (RetrySpec(), 8, 100.0),  # 128 s, capped at 100 times the initial interval
        (RetrySpec(max_attempts=0), 5000, 100.0),  # 2**4999 does not fit a float
        (RetrySpec(backoff_coefficient=1, maximum_interval_seconds=5), 10**6, 1.0),
        (RetrySpec(initial_interval_seconds=2, maximum_interval_seconds=1), 1, 1.0),
    ],
)
def test_the_interval_grows_to_its_cap(spec: RetrySpec, attempt: int, seconds: float) -> None:
    assert spec.interval_after(attempt) == seconds
