"""Malformed input is answered with an error code and never drops the connection."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowmaestro.gateway import GatewayConfig
from flowmaestro.security import Limits
from tests.gateway.harness import SECRET, Recorder, own_execution, serve

if TYPE_CHECKING:
    import asyncpg
    import pytest
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer
    from tests.gateway.harness import Running


def code(ack: Any) -> str:
    assert isinstance(ack, dict) and ack["ok"] is False, ack
    assert isinstance(ack["error"]["message"], str)
    return str(ack["error"]["code"])


async def test_malformed_messages_get_an_error_and_the_socket_stays(
    gateway: Running, pool: asyncpg.Pool
) -> None:
    await own_execution(pool, "ex_m", "u1")
    client = await Recorder().connect(gateway.url, "u1")
    c = client.client
    assert code(await c.call("subscribe", 42, timeout=10)) == "bad_request"
    assert code(await c.call("subscribe", timeout=10)) == "bad_request"
    assert code(await c.call("subscribe", {}, timeout=10)) == "bad_request"
    wrong = await c.call("subscribe", {"channel": 5, "after": "x"}, timeout=10)
    assert code(wrong) == "bad_request"
    assert {tuple(d["loc"]) for d in wrong["error"]["details"]} == {("channel",), ("after",)}
    assert code(await c.call("subscribe", {"channel": "user:u1", "after": -1}, timeout=10)) == (
        "bad_request"
    )
    extra = {"channel": "user:u1", "sneaky": True}
    assert code(await c.call("subscribe", extra, timeout=10)) == "bad_request"
    assert code(await c.call("subscribe", ({}, {}), timeout=10)) == "bad_request"
    assert code(await c.call("unsubscribe", [], timeout=10)) == "bad_request"
    assert code(await c.call("user_input:provide", {"executionId": "ex_m"}, timeout=10)) == (
        "bad_request"
    )
    assert code(await c.call("launch_missiles", {}, timeout=10)) == "bad_request"
    assert code(await c.call("disconnect", {}, timeout=10)) == "bad_request"
    huge = {"channel": "execution:ex_m", "pad": "x" * 200_000}
    assert code(await c.call("subscribe", huge, timeout=10)) == "too_large"
    # Without an ack id, the answer is an `error` event.
    for payload in (None, 42, {"channel": 1}):
        await c.emit("subscribe", payload)
    await c.emit("nope", {})
    await c.emit("subscribe", {"channel": "user:u1", "pad": "y" * 100_000})
    # Packets no client library would send: broken JSON, binary, other namespaces.
    for raw in (
        '2["subscribe",',
        "2",
        '2"str"',
        "2[1,2]",
        "2[]",
        '2/admin,["x"]',
        '5-["x",{}]',
        "4",
    ):
        await c.eio.send(raw)
    await c.eio.send(b"\x00\x01binary")
    await client.wait_until(lambda r: len(r.errors) == 14)
    assert [e["error"]["code"] for e in client.errors] == [
        *["bad_request"] * 4,
        "too_large",
        *["bad_request"] * 9,
    ]
    # Still connected and working.
    ack = await c.call("subscribe", {"channel": "execution:ex_m"}, timeout=10)
    assert ack["ok"] is True
    assert client.disconnects == []
    await client.close()


async def test_a_flood_is_rate_limited_and_the_socket_stays(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    config = GatewayConfig(
        jwt_secret=SECRET, limits=Limits(socket_messages_per_second=5, socket_message_burst=10)
    )
    async with serve(pool, temporal_env.client, config) as running:
        client = await Recorder().connect(running.url, "u1")
        acks = await asyncio.gather(
            *(client.call("subscribe", {"channel": "user:u1"}) for _ in range(15))
        )
        assert sum(a["ok"] for a in acks) == 9  # the connect packet took a token too
        assert {a["error"]["code"] for a in acks if not a["ok"]} == {"rate_limited"}
        assert client.disconnects == []
        await client.close()


async def test_a_user_in_debt_elsewhere_is_refused_here_after_a_sync(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    """The user's message rate is shared: another process (here, a spend written straight
    to the shared bucket) left u1 in debt. This process lets a message through on its own
    bucket, learns the debt at its sync, and refuses from then on."""
    limits = Limits(
        user_messages_per_second=1,
        user_message_burst=10_000,
        socket_messages_per_second=10_000,
        socket_message_burst=10_000,
    )
    config = GatewayConfig(jwt_secret=SECRET, limits=limits)
    async with serve(pool, temporal_env.client, config) as running:
        await pool.execute(
            "SELECT budget_spend('u1', 'user_messages_per_second', 20000, 1, 10000, true)"
        )
        client = await Recorder().connect(running.url, "u1")
        calls = 0
        async with asyncio.timeout(10):
            while True:  # until the sync (0.1 s): each call takes a round trip
                answer = await client.call("subscribe", {"channel": "user:u1"})
                calls += 1
                if not answer["ok"]:
                    break
        assert answer["error"]["code"] == "rate_limited"
        assert answer["error"]["details"]["limit"] == "user_messages_per_second"
        assert 1 < calls < 5_000, calls  # let through on its own bucket, far from empty
        await client.close()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
shaped = st.fixed_dictionaries(
    {},
    optional={
        "channel": json_values
        | st.sampled_from(["user:u1", "execution:ex_p", "kb:k", "agent:a:ex_p"]),
        "after": json_values | st.integers(min_value=-5, max_value=10**20),
        "executionId": json_values | st.just("ex_p"),
        "inputId": json_values,
        "value": json_values,
    },
)
messages = st.tuples(
    st.sampled_from(["subscribe", "unsubscribe", "user_input:provide"]) | st.text(max_size=12),
    st.lists(json_values | shaped, max_size=3),
)


def examples(count: int) -> list[tuple[str, list[Any]]]:
    """`count` messages drawn by hypothesis, 20 per example (derandomized: the same ones
    every run)."""
    drawn: list[tuple[str, list[Any]]] = []

    @settings(
        max_examples=count // 20,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(messages, min_size=20, max_size=20))
    def draw(batch: list[tuple[str, list[Any]]]) -> None:
        drawn.extend(batch)

    draw()
    return drawn


@pytest.mark.slow
async def test_thousands_of_arbitrary_messages_crash_no_handler(
    pool: asyncpg.Pool,
    sequencer: Sequencer,
    temporal_env: WorkflowEnvironment,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await own_execution(pool, "ex_p", "u1")
    drawn = examples(3000)
    config = GatewayConfig(
        jwt_secret=SECRET,
        limits=Limits(socket_messages_per_second=1e6, socket_message_burst=10**6),
    )
    caplog.set_level(logging.ERROR)
    async with serve(pool, temporal_env.client, config) as running:
        client = await Recorder().connect(running.url, "u1")
        answered = 0
        for start in range(0, len(drawn), 50):
            chunk = drawn[start : start + 50]
            acks = await asyncio.gather(
                *(client.client.call(n, tuple(a) if a else None, timeout=30) for n, a in chunk)
            )
            for (name, args), ack in zip(chunk, acks, strict=True):
                assert isinstance(ack, dict) and isinstance(ack["ok"], bool), (name, args, ack)
                if not ack["ok"]:
                    assert ack["error"]["code"] != "internal", (name, args, ack)
                answered += 1
        assert answered == len(drawn) >= 3000
        assert client.disconnects == [] and client.client.connected
        metrics = running.app.metrics.rejected
        assert metrics.labels("internal")._value.get() == 0
        await client.close()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
