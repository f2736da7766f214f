"""deploy/prometheus/alerts.yml passes `promtool check rules` and its own `promtool test
rules`; the Grafana dashboard is valid JSON; every metric the rules and the dashboard read
is one the gateway or the worker exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import cast

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from flowmaestro.activities.write_retry import WriteRetry
from flowmaestro.events.outbox import Availability
from flowmaestro.gateway.metrics import GatewayMetrics
from flowmaestro.health import WorkerHealth

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "flowmaestro.json"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (apt-get install prometheus)"
)


def promtool(*args: str) -> str:
    assert PROMTOOL is not None
    result = subprocess.run(
        [PROMTOOL, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@needs_promtool
def test_the_rules_pass_promtool_check() -> None:
    assert "SUCCESS" in promtool("check", "rules", "alerts.yml")


@needs_promtool
def test_the_rules_pass_their_own_tests() -> None:
    assert "SUCCESS" in promtool("test", "rules", "alerts_test.yml")


def exported() -> set[str]:
    """Every sample name the gateway's and the worker's /metrics can show."""
    gateway = GatewayMetrics()
    gateway.dependencies.record(Availability("postgres"))
    worker = CollectorRegistry()
    WorkerHealth.register_collectors(worker, WriteRetry())
    text = (generate_latest(gateway.registry) + generate_latest(worker)).decode()
    # Labelled series without samples yet show only in HELP lines.
    names = set(re.findall(r"^(flowmaestro_\w+)", text, re.MULTILINE))
    for family in re.findall(r"^# TYPE (flowmaestro_\w+) (\w+)", text, re.MULTILINE):
        name, kind = cast("tuple[str, str]", family)
        names |= {name, f"{name}_total"} if kind == "counter" else {name}
        if kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


def test_rules_and_dashboard_read_metrics_that_exist() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    rules = (PROMETHEUS / "alerts.yml").read_text()
    used = set(re.findall(r"flowmaestro_\w+", " ".join(queries) + rules))
    assert used, "nothing read"
    missing = used - exported()
    assert not missing, missing
