"""Server-sent events of every channel kind and the multiplexed stream (`GET /api/stream`):
each event once, in position order, resumed by one `Last-Event-ID` on any gateway, and the
same authorization as a subscribe."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from flowmaestro.events import AgentToken, KbProcessing
from tests.gateway.harness import emit, frames, own_execution, progress, read, serve, token

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer
    from tests.gateway.harness import Running


def agent_token(execution_id: str, index: int) -> AgentToken:
    return AgentToken(
        user_id="u1",
        execution_id=execution_id,
        agent_id="bot",
        data={"token": f"t{index}", "index": index, "offset": index * 2},
    )


def kb_step(progress_: float) -> KbProcessing:
    return KbProcessing(
        user_id="u1",
        knowledge_base_id="kb_1",
        data={"document_id": "doc_1", "step": "chunking", "progress": progress_},
    )


async def own_knowledge_base(pool: asyncpg.Pool, kb_id: str, owner: str) -> None:
    await pool.execute(
        "INSERT INTO knowledge_bases (id, owner_id, name) VALUES ($1, $2, 'kb')", kb_id, owner
    )


def auth(user: str = "u1") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(user)}"}


def events_of(got: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in got if f["event"] != "ready"]


async def until(stream: AsyncIterator[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """Frames up to the `count`th event (a `ready` among them: where it falls depends on how
    far the gateway's tail had come when the stream started)."""
    got: list[dict[str, Any]] = []
    while len(events_of(got)) < count:
        got.append(await anext(stream))
    return got


def check_ready(got: list[dict[str, Any]]) -> None:
    """One `ready`, whose position covers every event before it and none after."""
    [at] = [i for i, f in enumerate(got) if f["event"] == "ready"]
    position = got[at]["data"]["position"]
    assert got[at]["id"] == str(position)
    assert all(int(f["id"]) <= position for f in got[:at])
    assert all(int(f["id"]) > position for f in got[at + 1 :])


@pytest.mark.parametrize(
    ("channel", "each"),
    [("user:u1", 3), ("agent:bot:ex_a", 1), ("kb:kb_1", 1)],
)
async def test_every_channel_kind_streams_and_resumes(
    gateway: Running, pool: asyncpg.Pool, channel: str, each: int
) -> None:
    """Each batch emitted below has `each` events of `channel`."""
    await own_execution(pool, "ex_a", "u1", agents=("bot",))
    await own_knowledge_base(pool, "kb_1", "u1")

    async def batch(n: int) -> None:
        await emit(pool, progress("u1", "ex_a", n), agent_token("ex_a", n), kb_step(10 * n))
        await emit(pool, progress("u2", "ex_theirs", n))  # another user's: never shown

    await batch(0)
    url = f"{gateway.url}/api/stream"
    async with httpx.AsyncClient(headers=auth(), timeout=30) as http, asyncio.timeout(60):
        async with http.stream("GET", url, params={"channel": channel, "after": 0}) as response:
            assert response.status_code == 200, await response.aread()
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = frames(response)
            first = await until(stream, each)
            await batch(1)
            first += await until(stream, each)
        check_ready(first)
        assert [f["data"]["channels"] for f in first if f["event"] == "ready"] == [[channel]]
        # Emitted while disconnected: a resume from Last-Event-ID gets them once.
        await batch(2)
        resume = {"Last-Event-ID": first[-1]["id"]}
        async with http.stream("GET", url, params={"channel": channel}, headers=resume) as r:
            second = await until(frames(r), each)
    got = events_of(first + second)
    expected = [
        r[0]
        for r in await pool.fetch(
            "SELECT position FROM event_channel_positions WHERE channel = $1 ORDER BY 1", channel
        )
    ]
    assert [int(f["id"]) for f in got] == expected
    assert len(expected) == 3 * each
    assert all(int(f["id"]) == f["data"]["position"] for f in got)
    assert all(f["data"]["userId"] == "u1" for f in got)


async def test_one_stream_multiplexes_channels_by_one_position(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    await own_execution(pool, "ex_a", "u1", agents=("bot",))
    await own_execution(pool, "ex_b", "u1")
    await own_knowledge_base(pool, "kb_1", "u1")
    # ex_b's progress is in none of the channels below; ex_a's agent token is in two.
    await emit(pool, progress("u1", "ex_a", 0), progress("u1", "ex_b", 0), agent_token("ex_a", 0))
    await emit(pool, kb_step(10))
    channels = ["execution:ex_a", "agent:bot:ex_a", "kb:kb_1"]
    async with (
        serve(pool, temporal_env.client) as one,
        serve(pool, temporal_env.client) as other,
        httpx.AsyncClient(headers=auth(), timeout=30) as http,
        asyncio.timeout(60),
    ):
        params: dict[str, Any] = {"channel": channels, "after": 0}
        async with http.stream("GET", f"{one.url}/api/stream", params=params) as response:
            stream = frames(response)
            first = await until(stream, 3)
            await emit(pool, agent_token("ex_a", 1), progress("u1", "ex_b", 1), kb_step(20))
            first += await until(stream, 2)
        check_ready(first)
        [ready] = [f["data"] for f in first if f["event"] == "ready"]
        assert ready["channels"] == channels and ready["recovered"] is True
        # The other gateway resumes the same stream from the last id: no stickiness needed.
        await emit(pool, progress("u1", "ex_a", 1), kb_step(30), progress("u1", "ex_b", 2))
        resume = {"Last-Event-ID": first[-1]["id"]}
        params = {"channel": channels}
        async with http.stream(
            "GET", f"{other.url}/api/stream", params=params, headers=resume
        ) as response:
            stream = frames(response)
            second = await read(stream, 3)
            await emit(pool, agent_token("ex_a", 2))
            second += await read(stream, 1)
    got = events_of(first + second)
    expected = [
        r[0]
        for r in await pool.fetch(
            "SELECT DISTINCT position FROM event_channel_positions WHERE channel = ANY($1)"
            " ORDER BY 1",
            channels,
        )
    ]
    assert [int(f["id"]) for f in got] == expected
    assert len(expected) == 8
    assert not any(f["data"]["executionId"] == "ex_b" for f in got)


async def test_a_live_stream_starts_at_the_head(gateway: Running, pool: asyncpg.Pool) -> None:
    await own_execution(pool, "ex_a", "u1", agents=("bot",))
    async with httpx.AsyncClient(headers=auth(), timeout=30) as http, asyncio.timeout(60):
        params = {"channel": "execution:ex_a"}
        async with http.stream("GET", f"{gateway.url}/api/stream", params=params) as r:
            stream = frames(r)
            [ready] = await read(stream, 1)
            await emit(pool, progress("u1", "ex_a", 1))
            [live] = await read(stream, 1)
    assert ready["event"] == "ready" and ready["data"]["position"] == 0
    assert live["data"]["data"]["step"] == "1" and live["id"] == "1"


async def test_streams_are_authorized_per_channel(gateway: Running, pool: asyncpg.Pool) -> None:
    await own_execution(pool, "ex_a", "u1", agents=("bot",))
    await own_execution(pool, "ex_theirs", "u2")
    await own_knowledge_base(pool, "kb_theirs", "u2")
    url = f"{gateway.url}/api/stream"
    async with httpx.AsyncClient(timeout=30) as http:
        cases: list[tuple[dict[str, Any], dict[str, str], int, str]] = [
            ({"channel": "execution:ex_a"}, {}, 401, "unauthorized"),
            ({"channel": ["execution:ex_a", "kb:kb_theirs"]}, auth(), 403, "forbidden"),
            ({"channel": "user:u2"}, auth(), 403, "forbidden"),
            ({"channel": "agent:bot:ex_theirs"}, auth(), 403, "forbidden"),
            ({"channel": "execution:nope"}, auth(), 404, "not_found"),
            ({"channel": "room:1"}, auth(), 400, "bad_request"),
            ({}, auth(), 400, "bad_request"),
            ({"channel": "execution:ex_a"}, {**auth(), "Last-Event-ID": "x"}, 400, "bad_request"),
            ({"channel": [f"user:u1{i}" for i in range(101)]}, auth(), 400, "bad_request"),
        ]
        for params, headers, status, code in cases:
            answer = await http.get(url, params=params, headers=headers)
            assert answer.status_code == status, (params, answer.text)
            assert answer.json()["error"]["code"] == code, (params, answer.text)
