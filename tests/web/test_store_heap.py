"""The store's memory bound in Chromium (docs/sdk-typescript.md, Memory bounds): a page
watching 200 executions whose agents stream 2,000 tokens each keeps under 16 MB of heap, and
about nothing once nobody watches them (web/bench/heap.mjs measures with CDP's heap usage
after a collection)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.web.driver import WEB, missing

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.skipif(missing() is not None, reason=missing() or ""),
]

BOUND_MB = 16


def test_a_page_watching_200_streaming_executions_stays_under_the_bound() -> None:
    npm = shutil.which("npm")
    assert npm is not None
    subprocess.run(
        [npm, "run", "--silent", "bench:heap"],
        cwd=WEB,
        check=True,
        timeout=540,
        env={**os.environ, "VITE_CONFIG_NATIVE_IGNORE_WARNING": "true"},
        capture_output=True,
    )
    rows = json.loads((WEB / "bench" / "results" / "store-heap.json").read_text())["rows"]
    heap = {row["store"]: row for row in rows}
    watched = heap["200 executions, all watched"]
    assert watched["events"] == 401_200
    assert watched["heap_mb"] < BOUND_MB
    assert heap["200 executions, none watched"]["heap_mb"] < 1
