"""Review (issue 28): values the gateway read loosely or passed on unchecked. A date that
UTC cannot hold (`since=0001-01-01T00:00:00+14:00`, `until=9999-12-31T23:59:59-14:00`, or a
cursor holding one) answered 500 and logged two tracebacks; `auth.after: true` was read as 1,
`"0"` accepted, `batch: "yes"` read as true; `Last-Event-ID: 1_000` was read as 1000. Each is
now refused with `bad_request`, and nothing of it reaches the log as a traceback."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.gateway.harness import Recorder, own_execution, token
from tests.gateway.test_auth import refusal
from tests.security.stack import gateway_stack, still_serving

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from tests.security.stack import Stack

OUT_OF_RANGE = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]
# What int() or pydantic's lax int would read as a number; a position is digits only.
NOT_DIGITS = ["1_000", " 1", "1 ", "+1", "-1", "1.0", "0x10", "1e3", "", str(1 << 70)]


def cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def refused(answer: httpx.Response, what: Any) -> None:
    assert answer.status_code == 400, (what, answer.status_code, answer.text)
    assert answer.json()["error"]["code"] == "bad_request", (what, answer.text)


@pytest.mark.slow
async def test_dates_utc_cannot_hold_and_numbers_not_in_digits_are_bad_requests(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    await own_execution(pool, "ex_s", "mallory")
    async with (
        gateway_stack(database_dsn, temporal_env.client) as stack,
        httpx.AsyncClient(base_url=stack.url, timeout=30) as http,
    ):
        auth = stack.auth("mallory")
        for stamp in OUT_OF_RANGE:
            for params in (
                {"since": stamp},
                {"until": stamp},
                {"cursor": cursor(f"{stamp}|ex_1")},
                {"since": "2026-01-01T00:00:00Z", "cursor": cursor(f"{stamp}|ex_1")},
            ):
                refused(await http.get("/api/executions", params=params, headers=auth), params)
        naive = {"since": "2026-01-01T00:00:00"}
        refused(await http.get("/api/executions", params=naive, headers=auth), naive)
        # The last day UTC holds at the far offsets is still a date.
        for params in (
            {"since": "0001-01-02T00:00:00+14:00"},
            {"until": "9999-12-30T00:00:00-14:00"},
        ):
            answer = await http.get("/api/executions", params=params, headers=auth)
            assert answer.status_code == 200, (params, answer.text)

        streams = [
            ("/api/executions/ex_s/stream", {}),
            ("/api/stream", {"channel": "execution:ex_s"}),
        ]
        raw_auth = {k.encode(): v.encode() for k, v in auth.items()}
        for value in [*NOT_DIGITS, "١٢"]:  # Arabic-Indic digits: int() reads them
            # HTTP strips a header value's surrounding spaces (httpx refuses to send them).
            for path, params in streams if value.strip() == value else []:
                header = {**raw_auth, b"Last-Event-ID": value.encode()}
                refused(await http.get(path, params=params, headers=header), value)
            for path, params in [*streams, ("/api/executions/ex_s/events", {})]:
                answer = await http.get(path, params={**params, "after": value}, headers=auth)
                refused(answer, (path, value))
            for path in ("/api/executions", "/api/knowledge-bases"):
                refused(await http.get(path, params={"limit": value}, headers=auth), value)
        events = await http.get("/api/executions/ex_s/events", params={"after": "0"}, headers=auth)
        assert events.status_code == 200, events.text
        await still_serving(stack)
    assert_no_traceback(stack)


@pytest.mark.slow
async def test_connect_and_subscribe_values_of_the_wrong_type_are_refused(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    await own_execution(pool, "ex_s", "mallory")
    async with gateway_stack(database_dsn, temporal_env.client) as stack:
        mallory = token("mallory")
        wrong: list[dict[str, Any]] = [
            {"after": True},
            {"after": "0"},
            {"after": 1.0},
            {"after": -1},
            {"after": 1 << 70},
            {"batch": "yes"},
            {"batch": 1},
            {"batch": None},
        ]
        for values in wrong:
            data = await refusal(stack.url, auth={"token": mallory, **values}, code="bad_request")
            assert "after" in data["message"], data
        client = await Recorder().connect(
            stack.url, auth={"token": mallory, "after": 0, "batch": True}
        )
        try:
            for values in wrong:
                for request in (
                    {"channel": "execution:ex_s", **values},
                    {"channels": ["execution:ex_s", "user:mallory"], **values},
                ):
                    ack = await client.call("subscribe", request)
                    assert ack["ok"] is False, (request, ack)
                    assert ack["error"]["code"] == "bad_request", (request, ack)
            ack = await client.call("subscribe", {"channel": "execution:ex_s", "after": 0})
            assert ack["ok"] is True, ack
        finally:
            await client.close()
        await still_serving(stack)
    assert_no_traceback(stack)


def assert_no_traceback(stack: Stack) -> None:
    assert "Traceback" not in stack.log, stack.log
