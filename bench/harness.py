"""What every benchmark shares: statistics over rounds, the result table, the JSON file.

A benchmark module `bench/<name>.py` exposes `async def run(quick: bool) -> list[Row]`.
"""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True, slots=True)
class Stats:
    """Median and spread (min..max) of repeated rounds."""

    median: float
    low: float
    high: float
    rounds: int

    @classmethod
    def of(cls, samples: list[float]) -> Stats:
        if not samples:
            raise ValueError("no samples")
        return cls(statistics.median(samples), min(samples), max(samples), len(samples))


@dataclass(frozen=True, slots=True)
class Row:
    """One measured case, optionally against its baseline (ratio = value / baseline)."""

    case: str
    metric: str
    unit: str
    value: Stats
    baseline: Stats | None = None
    baseline_name: str | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline.median == 0:
            return None
        return self.value.median / self.baseline.median


def percentile(samples: list[float], p: float) -> float:
    """The p-th percentile (0-100) by nearest rank."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples")
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def _fmt(x: float) -> str:
    return f"{x:,.3f}" if abs(x) < 100 else f"{x:,.0f}"


def render(name: str, rows: list[Row]) -> str:
    head = (
        f"{'case':<34} {'metric':<22} {'median':>12} {'spread':>23} {'baseline':>12} {'ratio':>7}"
    )
    lines = [f"# {name}  ({os.cpu_count()} cores, {datetime.now(UTC):%Y-%m-%d})", head]
    for r in rows:
        spread = f"{_fmt(r.value.low)}..{_fmt(r.value.high)}"
        base = _fmt(r.baseline.median) if r.baseline else "-"
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        lines.append(
            f"{r.case:<34} {r.metric + ' (' + r.unit + ')':<22} {_fmt(r.value.median):>12} "
            f"{spread:>23} {base:>12} {ratio:>7}"
        )
    return "\n".join(lines)


def save(name: str, rows: list[Row], quick: bool) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    payload = {
        "benchmark": name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "quick": quick,
        "rows": [{**asdict(r), "ratio": r.ratio} for r in rows],
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path
