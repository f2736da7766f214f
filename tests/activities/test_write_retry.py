"""The write retry loop: outage errors are waited out (and the waits reported), others are
not, and the deadline ends the wait; the state changes are what the logs and metrics show."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import asyncpg
import pytest

from flowmaestro.activities.write_retry import WriteDeadlineError, WriteRetry, pausing

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable


def _failing(*errors: Exception) -> tuple[list[int], Callable[[], Awaitable[str]]]:
    calls: list[int] = []
    pending = list(errors)

    async def write() -> str:
        calls.append(1)
        if pending:
            raise pending.pop(0)
        return "written"

    return calls, write


async def test_an_outage_is_waited_out_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    writes = WriteRetry(initial_interval=0.01, max_interval=0.02)
    lost_mid_statement = asyncpg.InterfaceError(
        "cannot call Transaction.__aexit__(): the underlying connection is closed"
    )
    lost_mid_statement.__context__ = asyncpg.InternalClientError("cannot switch to state 12")
    calls, write = _failing(
        ConnectionRefusedError(111, "refused"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.InterfaceError("connection is closed"),
        lost_mid_statement,
    )
    waited: list[float] = []
    with caplog.at_level(logging.WARNING), pausing(waited.append):
        assert await writes.run(write) == "written"
    assert len(calls) == 5
    assert (writes.retries, writes.expired, writes.postgres.outages) == (4, 0, 1)
    assert writes.postgres.up and writes.postgres.reason is None
    assert len(waited) == 4 and all(w > 0 for w in waited)
    lines = [r.getMessage() for r in caplog.records]
    assert [line.split(":")[0].split(" after")[0] for line in lines] == [
        "postgres lost",
        "postgres back",
    ]


async def test_other_errors_are_not_retried() -> None:
    writes = WriteRetry(initial_interval=0.01, max_interval=0.02)
    for error in (
        asyncpg.UniqueViolationError("duplicate"),
        asyncpg.QueryCanceledError("statement timeout"),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        ValueError("bad"),
    ):
        calls, write = _failing(error)
        with pytest.raises(type(error)):
            await writes.run(write)
        assert len(calls) == 1
    assert writes.retries == 0 and writes.postgres.up


async def test_the_deadline_ends_the_wait() -> None:
    writes = WriteRetry(deadline=0.2, initial_interval=0.01, max_interval=0.05)
    calls, write = _failing(*[OSError("unreachable")] * 1000)
    with pytest.raises(WriteDeadlineError) as raised:
        await writes.run(write)
    assert raised.value.waited >= 0.2
    assert writes.expired == 1 and not writes.postgres.up
    assert "OSError: unreachable" in (writes.postgres.reason or "")
    assert 4 <= len(calls) < 1000


def test_the_deadline_is_bounded() -> None:
    with pytest.raises(ValueError):
        WriteRetry(deadline=3601)
