"""Whether a dependency (Postgres, Temporal) answers, as one process sees it.

Every retry loop reports into one `Availability` per dependency, which logs one line when the
dependency is lost and one when it is back (not a traceback per retry), and keeps what
/readyz and the metrics show: up or not, why, since when, and how many outages.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import asyncpg

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` means Postgres is away (restarting, crashed, unreachable), so the same
    statement can succeed later, rather than that the statement itself is wrong."""
    seen: BaseException | None = exc
    while seen is not None:  # the error, or what it was raised while handling
        if _is_outage(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_outage(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg.QueryCanceledError):
        return False  # a statement timeout or a cancel: the statement's fault, not an outage
    if isinstance(exc, asyncpg.InterfaceError):
        # A connection that died under us (its server restarted); other interface errors
        # (misuse of a connection) are bugs.
        return "closed" in str(exc)
    return isinstance(
        exc,
        OSError  # refused, reset, unreachable; TimeoutError too
        | asyncpg.PostgresConnectionError  # class 08, and a connection closed mid-query
        | asyncpg.OperatorInterventionError  # class 57: shutting down, starting up, crashed
        | asyncpg.TooManyConnectionsError
        # The protocol's state confused by a connection lost mid-statement.
        | asyncpg.InternalClientError,
    )


class Availability:
    """The state of one dependency; `lost` and `back` log only on a change."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.up = True
        self.reason: str | None = None
        """Why it is down (the first error of the outage); None while up."""
        self.since = time.monotonic()
        self.outages = 0

    def lost(self, exc: BaseException | str) -> None:
        if not self.up:
            return
        self.up = False
        self.reason = exc if isinstance(exc, str) else _describe(exc)
        self.since = time.monotonic()
        self.outages += 1
        log.warning("%s lost: %s", self.name, self.reason)

    def back(self, tried_at: float | None = None) -> None:
        """It answered. `tried_at` (time.monotonic()) is when the call that answered began:
        one that began before the outage did (a statement in flight while another failed)
        says nothing about now, and is ignored."""
        if self.up or (tried_at is not None and tried_at < self.since):
            return
        down_for = time.monotonic() - self.since
        self.up = True
        self.reason = None
        self.since = time.monotonic()
        log.warning("%s back after %.1fs", self.name, down_for)

    async def probe(self, check: Callable[[], Awaitable[object]], timeout: float = 2.0) -> bool:
        """Run `check` (e.g. `SELECT 1`); its outcome is the state. Whether it answered."""
        tried_at = time.monotonic()
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel
            # that arrives as the check completes, and a watch loop cancelled at shutdown
            # then went round again (a gateway's lifespan shutdown hung, 1 run in 3).
            async with asyncio.timeout(timeout):
                await check()
        except Exception as exc:
            self.lost(exc)
            return False
        self.back(tried_at)
        return True


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
