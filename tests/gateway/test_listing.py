"""GET /api/executions: keyset pages newest first, filtered by status, flow and time; over
100,000 executions the first page and a deep cursor page are planned on an index (EXPLAIN:
no sequential scan, no sort), with custom and generic plans alike, for a user of a personal
workspace and for a member of a workspace (their private executions and the shared ones)."""

from __future__ import annotations

import json
import math
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from bench.listing import EPOCH, VIEWER, cursor_at, generate_executions
from flowmaestro.gateway.auth import Principal
from flowmaestro.gateway.listing import Filters, listing_query
from tests.gateway.harness import token

if TYPE_CHECKING:
    import asyncpg


def plan_nodes(plan: dict[str, Any]) -> list[str]:
    return [plan["Node Type"]] + [n for child in plan.get("Plans", []) for n in plan_nodes(child)]


FILTERS = {
    "none": Filters(),
    "status": Filters(status="failed"),
    "flow": Filters(flow="flow3"),
    "time": Filters(since=EPOCH + timedelta(days=3), until=EPOCH + timedelta(days=20)),
    "status and time": Filters(status="waiting", until=EPOCH + timedelta(days=30)),
}


MEMBER = Principal("heavy", math.inf, workspace="acme")
# 30% of the executions are acme's, two thirds of those shared with the workspace.
_IN_WORKSPACE = """
UPDATE executions SET workspace_id = 'acme',
    visibility = CASE WHEN right(id, 1) = '0' THEN 'private' ELSE 'workspace' END
WHERE right(id, 1) IN ('0', '1', '2')
"""


@pytest.mark.parametrize("filters", FILTERS.values(), ids=FILTERS.keys())
@pytest.mark.parametrize("plan_mode", ["force_custom_plan", "force_generic_plan"])
@pytest.mark.parametrize("viewer", [VIEWER, MEMBER], ids=["personal", "workspace"])
@pytest.mark.slow
async def test_first_and_deep_pages_use_an_index_over_100k(
    pool: asyncpg.Pool, filters: Filters, plan_mode: str, viewer: Principal
) -> None:
    await generate_executions(pool, 100_000)
    await pool.execute(_IN_WORKSPACE)
    await pool.execute("ANALYZE executions")
    deep = await cursor_at(pool, viewer, filters, 2_000)  # past 2,000 of the viewer's rows
    async with pool.acquire() as con:
        await con.execute(f"SET plan_cache_mode = {plan_mode}")
        for cursor in (None, deep):
            sql, args = listing_query(viewer, filters, cursor, 100)
            statement = await con.prepare(f"EXPLAIN (FORMAT JSON) {sql}")
            [explained] = json.loads(await statement.fetchval(*args))
            nodes = plan_nodes(explained["Plan"])
            assert "Seq Scan" not in nodes and "Sort" not in nodes, (cursor, nodes)
            assert any(n.startswith("Index") for n in nodes), nodes
            if cursor is not None:
                # The scan starts at the cursor: it is an index condition, not a filter.
                assert "ROW(created_at, id) <" in json.dumps(explained["Plan"]), explained
            rows = await con.fetch(sql, *args)
            assert len(rows) <= 101
        await con.execute("RESET plan_cache_mode")


async def test_pages_walk_every_execution_once_in_order(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    await generate_executions(pool, 3_000)
    expected = [
        r["id"]
        for r in await pool.fetch(
            "SELECT id FROM executions WHERE user_id = 'user8' AND status = 'completed' "
            "ORDER BY created_at DESC, id DESC"
        )
    ]
    api.headers["Authorization"] = f"Bearer {token('user8')}"
    seen: list[str] = []
    params: dict[str, Any] = {"status": "completed", "limit": 3}
    while True:
        page = (await api.get("/api/executions", params=params)).json()
        seen += [e["executionId"] for e in page["executions"]]
        assert all(e["status"] == "completed" for e in page["executions"])
        if page["nextCursor"] is None:
            break
        params["cursor"] = page["nextCursor"]
    assert seen == expected and len(expected) > 3

    window = {"since": (EPOCH + timedelta(hours=2)).isoformat(), "flow": "flow3"}
    windowed = (await api.get("/api/executions", params=window)).json()["executions"]
    assert windowed and all(
        e["flowName"] == "flow3" and e["createdAt"] >= window["since"] for e in windowed
    )
    bad = await api.get("/api/executions", params={"cursor": "not-a-cursor"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "bad_request")
    naive = await api.get("/api/executions", params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 400
