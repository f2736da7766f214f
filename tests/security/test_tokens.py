"""Tokens: never written to a log, never accepted beyond the configured lifetime; their
expiry runs on the gateway's clock, which these tests move on instead of waiting."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING

import httpx
import jwt
import pytest
import socketio

from flowmaestro.gateway import GatewayConfig, mint_token
from tests.gateway.harness import (
    SECRET,
    Recorder,
    emit,
    has_events,
    own_execution,
    progress,
    serve,
    token,
)
from tests.gateway.test_auth import refusal
from tests.security.stack import gateway_stack, still_serving
from tests.support.clock import FakeClock
from tests.workflows.helpers import worker

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer


@pytest.mark.slow
async def test_a_query_token_never_reaches_the_access_log(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    async with gateway_stack(database_dsn, temporal_env.client) as stack:
        secret_token = mint_token(SECRET, "mallory", 600)
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(
            f"{stack.url}/?token={secret_token}", transports=["websocket"], wait_timeout=10
        )
        async with httpx.AsyncClient(base_url=stack.url) as http:
            # The HTTP API takes no query token, but the line of its request is logged.
            await http.get("/api/executions", params={"token": secret_token})
            await asyncio.gather(
                still_serving(stack), http.get("/healthz", params={"access_token": secret_token})
            )
        await client.disconnect()
        await stack.wait_output('"GET /healthz?access_token=[redacted] HTTP/1.1" 200')
        await stack.wait_output("/socket.io/?token=[redacted]")
    assert '"GET /api/executions?token=[redacted] HTTP/1.1" 401' in stack.log
    signature = secret_token.rsplit(".", 1)[1]
    assert signature not in stack.log and secret_token not in stack.log


@pytest.mark.slow
async def test_a_token_living_longer_than_the_limit_is_refused(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    async with gateway_stack(
        database_dsn, temporal_env.client, token_max_lifetime_seconds=3600
    ) as stack:
        now = int(time.time())
        century = mint_token(SECRET, "mallory", 100 * 365 * 24 * 3600)
        no_iat_long = jwt.encode({"sub": "mallory", "exp": now + 7200}, SECRET, "HS256")
        no_iat_short = jwt.encode({"sub": "mallory", "exp": now + 600}, SECRET, "HS256")
        for refused_token in (century, no_iat_long):
            data = await refusal(stack.url, auth={"token": refused_token})
            assert "lifetime" in data["message"]
            async with httpx.AsyncClient(base_url=stack.url) as http:
                answer, _ = await asyncio.gather(
                    http.get(
                        "/api/executions", headers={"Authorization": f"Bearer {refused_token}"}
                    ),
                    still_serving(stack),
                )
            assert answer.status_code == 401
            assert answer.json()["error"]["code"] == "unauthorized"
        accepted = await Recorder().connect(stack.url, auth={"token": no_iat_short})
        assert accepted.client.connected
        await accepted.close()


def until(exp: int, user: str) -> str:
    """A token of `user` valid until `exp` (seconds since the epoch)."""
    return token(user, exp - int(time.time()))


def told(kind: str) -> Callable[[Recorder], bool]:
    return lambda r: any(event == kind for event, _ in r.auth)


async def test_a_refreshed_socket_keeps_its_subscriptions_and_an_unrefreshed_one_is_cut(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    clock = FakeClock()  # the gateway's: time passes when the test says so
    await own_execution(pool, "ex_alice", "alice")
    await own_execution(pool, "ex_bob", "bob")
    async with worker(temporal_env.client, pool) as queue:
        config = GatewayConfig(jwt_secret=SECRET, task_queue=queue)
        async with serve(pool, temporal_env.client, config, clock=clock) as gateway:
            warning = config.limits.token_refresh_warning_seconds
            # Both tokens expire at the same second of the gateway's clock.
            exp = int(clock.time()) + 600
            alice = await Recorder().connect(gateway.url, auth={"token": until(exp, "alice")})
            bob = await Recorder().connect(gateway.url, auth={"token": until(exp, "bob")})
            for who, execution_id in ((alice, "ex_alice"), (bob, "ex_bob")):
                ack = await who.call("subscribe", {"channel": f"execution:{execution_id}"})
                assert ack["ok"]
            assert not told("auth:expiring")(alice)
            clock.advance(exp - warning + 1 - clock.time())
            await alice.wait_until(told("auth:expiring"))
            refreshed = await alice.call("auth:refresh", {"token": token("alice", 3600)})
            assert refreshed["ok"] is True and refreshed["exp"] > clock.time() + 500
            # Refusals: another user's token, an over-long one, garbage; none moves bob's exp.
            for attempt, code in (
                (token("carol", 600), "forbidden"),
                (token("bob", 10 * 24 * 3600), "unauthorized"),
                ("not-a-token", "unauthorized"),
            ):
                refused = await bob.call("auth:refresh", {"token": attempt})
                assert refused["ok"] is False and refused["error"]["code"] == code, refused
            assert (await bob.call("auth:refresh", {}))["error"]["code"] == "bad_request"
            assert not bob.disconnects
            clock.advance(exp + 2 - clock.time())  # past the original exp
            await asyncio.gather(
                bob.wait_until(lambda r: bool(r.disconnects)), still_serving(gateway)
            )
            assert told("auth:expired")(bob)
            assert dict(bob.auth)["auth:expired"]["reason"] == "token_expired"
            # Past the original exp: alice is still connected and still gets her events.
            await emit(pool, progress("alice", "ex_alice", 1), progress("bob", "ex_bob", 1))
            await alice.wait_until(has_events(1))
            assert alice.client.connected and not told("auth:expired")(alice)
            assert alice.events[0]["executionId"] == "ex_alice" and bob.events == []
            await alice.close()


async def test_an_sse_stream_ends_at_its_tokens_exp(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    clock = FakeClock()
    await own_execution(pool, "ex_sse", "mallory")
    await emit(pool, progress("mallory", "ex_sse", 0))  # a first frame for each stream
    async with (
        serve(pool, temporal_env.client, clock=clock) as gateway,
        httpx.AsyncClient(base_url=gateway.url, timeout=30) as http,
    ):
        streams: list[tuple[str, dict[str, str | int]]] = [
            ("/api/executions/ex_sse/stream", {"after": 0}),
            ("/api/stream", {"channel": "execution:ex_sse", "after": 0}),
        ]
        for path, params in streams:
            # 600 s on the gateway's clock (which earlier rounds have moved on).
            exp = int(clock.time()) + 600
            auth = {"Authorization": f"Bearer {until(exp, 'mallory')}"}
            async with (
                asyncio.timeout(20),
                http.stream("GET", path, params=params, headers=auth) as stream,
            ):
                lines = stream.aiter_lines()
                seen = [line async for line in until_data(lines)]
                assert "event: auth:expired" not in seen
                clock.advance(exp + 2 - clock.time())
                rest = [line async for line in lines]
            assert "event: auth:expired" in rest, rest
            data = json.loads(rest[rest.index("event: auth:expired") + 1].removeprefix("data: "))
            assert data["reason"] == "token_expired"


async def until_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The stream's lines up to its first `data:` line (the stream is running)."""
    async for line in lines:
        yield line
        if line.startswith("data: "):
            return
