"""LogBudget: at most so many records of one kind a minute, the rest counted and told."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flowmaestro.security.log_budget import LogBudget

if TYPE_CHECKING:
    import pytest


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(where: str) -> None:
    if where == "here":
        raise ValueError("a bad value")
    raise KeyError(where)


def slow(log: logging.Logger, sid: object) -> None:
    log.info("socket %s cannot keep up", sid)


def failing(log: logging.Logger, where: str) -> None:
    try:
        fail(where)
    except Exception:
        log.exception("GET /api/x failed")


def test_each_kind_of_failure_is_logged_at_most_so_often_then_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    log = logging.getLogger("tests.log_budget")
    budget = LogBudget(3, clock=clock)
    with budget.attached(log), caplog.at_level(logging.INFO, logger=log.name):
        for _ in range(100):
            failing(log, "here")  # one kind, whatever the request
        failing(log, "elsewhere")  # another exception: its own kind
        for i in range(10):
            slow(log, i)  # no exception: the kind is the message and its place
        assert [r.exc_info is not None for r in caplog.records] == [True] * 4 + [False] * 3
        caplog.clear()
        clock.now += 60
        failing(log, "here")
        failing(log, "here")
        slow(log, "s1")
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "GET /api/x failed (97 more like it were not logged)",
        "GET /api/x failed",
        "socket s1 cannot keep up (7 more like it were not logged)",
    ]
    assert caplog.records[0].exc_info is not None  # the traceback stays
    log.info("after the block")  # no longer filtered


def test_records_of_other_loggers_pass(caplog: pytest.LogCaptureFixture) -> None:
    budget = LogBudget(1, clock=Clock())
    guarded, other = logging.getLogger("tests.guarded"), logging.getLogger("tests.other")
    with budget.attached(guarded), caplog.at_level(logging.INFO):
        for _ in range(5):
            guarded.info("once")
            other.info("always")
    assert [r.getMessage() for r in caplog.records].count("always") == 5
    assert [r.getMessage() for r in caplog.records].count("once") == 1
