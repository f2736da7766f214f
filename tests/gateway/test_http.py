"""The HTTP API: bearer auth, catch-up, SSE with Last-Event-ID, health, metrics, OpenAPI (in
process where no stream is read, and without Temporal where none is needed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from flowmaestro.gateway import GatewayConfig
from tests.gateway.harness import (
    SECRET,
    emit,
    frames,
    in_process,
    own_execution,
    progress,
    read,
    token,
)

if TYPE_CHECKING:
    import asyncpg
    from temporalio.client import Client
    from temporalio.testing import WorkflowEnvironment

    from tests.gateway.harness import Running


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


async def test_sse_streams_and_resumes_with_last_event_id(
    gateway: Running, pool: asyncpg.Pool
) -> None:
    await own_execution(pool, "ex_h", "u1")
    await emit(pool, *(progress("u1", "ex_h", i) for i in range(5)))
    await emit(pool, progress("u1", "ex_other", 0))
    headers = {"Authorization": f"Bearer {token('u1')}"}
    url = f"{gateway.url}/api/executions/ex_h/stream"
    async with httpx.AsyncClient(headers=headers, timeout=30) as http:
        async with http.stream("GET", url, params={"after": 0}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = frames(response)
            first = await read(stream, 5)
            await emit(pool, *(progress("u1", "ex_h", i) for i in range(5, 8)))
            first += await read(stream, 3)
        assert [f["data"]["data"]["step"] for f in first] == [str(i) for i in range(8)]
        assert all(
            f["event"] == "node:progress" and int(f["id"]) == f["data"]["position"] for f in first
        )
        # Events emitted while disconnected arrive after a resume from Last-Event-ID, once.
        await emit(pool, *(progress("u1", "ex_h", i) for i in range(8, 12)))
        resume = {"Last-Event-ID": first[-1]["id"]}
        async with http.stream("GET", url, headers=resume) as response:
            stream = frames(response)
            second = await read(stream, 4)
            await emit(pool, progress("u1", "ex_h", 12))
            second += await read(stream, 1)
        assert [f["data"]["data"]["step"] for f in second] == [str(i) for i in range(8, 13)]
        positions = [int(f["id"]) for f in first + second]
        assert positions == sorted(set(positions))

        page = (
            await http.get(
                f"{gateway.url}/api/executions/ex_h/events",
                params={"after": positions[2], "limit": 3},
            )
        ).json()
        assert [e["position"] for e in page["events"]] == positions[3:6]
        assert page["position"] == positions[5] and page["recovered"] is True
        snapshot = (await http.get(f"{gateway.url}/api/executions/ex_h")).json()
        assert snapshot["position"] == positions[-1]
        assert snapshot["nodes"] == [
            {
                "nodeId": "n",
                "nodeType": "",
                "status": "pending",
                "attempt": 1,
                "maxAttempts": None,
                "durationMs": None,
                "progress": 12,
                "lastError": None,
            }
        ]


async def test_http_refusals_have_codes(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    await own_execution(pool, "ex_theirs", "u2")
    assert (await api.get("/api/executions")).status_code == 401
    bad = await api.get("/api/executions", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthorized"
    auth = {"Authorization": f"Bearer {token('u1')}"}
    for path in (
        "/api/executions/ex_theirs",
        "/api/executions/ex_theirs/events",
        "/api/executions/ex_theirs/stream",
    ):
        refused = await api.get(path, headers=auth)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    missing = await api.get("/api/executions/ex_nope", headers=auth)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    answer = await api.post(
        "/api/executions/ex_theirs/inputs/in_1", json={"value": 1}, headers=auth
    )
    assert answer.status_code == 403
    unknown_flow = await api.post("/api/executions", json={"flow": "nope"}, headers=auth)
    assert unknown_flow.status_code == 404
    invalid_flow = await api.post(
        "/api/executions", json={"flow": {"name": "x", "nodes": []}}, headers=auth
    )
    assert invalid_flow.status_code == 400 and invalid_flow.json()["error"]["code"] == "bad_request"


async def test_health_metrics_and_openapi(
    pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    async with in_process(pool, temporal_env.client) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        ready = await http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"postgres": True, "temporal": True, "tail": True}
        metrics = (await http.get("/metrics")).text
        for name in (
            "flowmaestro_gateway_connections",
            "flowmaestro_gateway_deliveries_total",
            "flowmaestro_gateway_commit_to_emit_seconds_bucket",
            "flowmaestro_gateway_tail_lag_events",
        ):
            assert name in metrics
        paths = (await http.get("/openapi.json")).json()["paths"]
        assert "/api/executions/{execution_id}/stream" in paths
        assert (await http.get("/docs")).status_code == 200


async def test_the_built_ui_is_served_at_the_root(
    pool: asyncpg.Pool, no_temporal: Client, tmp_path: Path
) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>FlowMaestro</title>")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "app.js").write_text("console.log('ui')")
    config = GatewayConfig(jwt_secret=SECRET, static_dir=tmp_path)
    async with in_process(pool, no_temporal, config) as http:
        index = await http.get("/")
        assert index.status_code == 200 and "<title>FlowMaestro</title>" in index.text
        assert (await http.get("/assets/app.js")).text == "console.log('ui')"
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        assert (await http.get("/api/executions")).status_code == 401


async def test_the_snapshot_has_the_flows_graph(
    pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    # No worker polls this queue: the execution waits; its graph is there from the start.
    config = GatewayConfig(jwt_secret=SECRET, flows_dir=EXAMPLES, task_queue="nobody")
    auth = {"Authorization": f"Bearer {token('u1')}"}
    async with in_process(pool, temporal_env.client, config) as http:
        started = await http.post("/api/executions", json={"flow": "parallel"}, headers=auth)
        execution_id = started.json()["executionId"]
        snapshot = (await http.get(f"/api/executions/{execution_id}", headers=auth)).json()
        await temporal_env.client.get_workflow_handle(execution_id).terminate()
    edges = {(d, n["id"]) for n in snapshot["graph"]["nodes"] for d in n["after"]}
    assert [n["id"] for n in snapshot["graph"]["nodes"]] == [
        "prepare",
        "headline",
        "pause",
        "score",
        "combine",
    ]
    assert edges == {
        ("prepare", "headline"),
        ("prepare", "pause"),
        ("prepare", "score"),
        ("headline", "combine"),
        ("pause", "combine"),
        ("score", "combine"),
    }


async def test_an_admin_token_closes_metrics_and_docs(
    pool: asyncpg.Pool, no_temporal: Client
) -> None:
    config = GatewayConfig(jwt_secret=SECRET, admin_token="operator-only")
    async with in_process(pool, no_temporal, config) as http:
        for path in ("/metrics", "/docs", "/openapi.json", "/redoc"):
            refused = await http.get(path)
            assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
            wrong = await http.get(path, headers={"Authorization": f"Bearer {token('u1')}"})
            assert wrong.status_code == 401
            admitted = await http.get(path, headers={"Authorization": "Bearer operator-only"})
            assert admitted.status_code == 200, path
        assert (await http.get("/healthz")).status_code == 200


async def test_without_a_built_ui_the_root_explains_how_to_build_it(
    pool: asyncpg.Pool, no_temporal: Client, tmp_path: Path
) -> None:
    config = GatewayConfig(jwt_secret=SECRET, static_dir=tmp_path)  # no index.html there
    async with in_process(pool, no_temporal, config) as http:
        root = await http.get("/")
        assert root.status_code == 200
        assert root.headers["content-type"].startswith("text/html")
        assert "npm run build" in root.text
        missing = await http.get("/app.js")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
