"""A bound on what outsiders can make a process log: at most so many records of one kind a
minute, the rest counted and the count told with the next one logged.

A kind is one failure (the exception's type and the line that raised it) or, for a record
without one, one message at one place. Kinds are places in our code, so their number is
bounded whatever the requests; a client that repeats a failing request fills its minute and
then costs nothing more to log. The filter goes on each logger whose records clients can
cause (the gateway's: `flowmaestro.gateway.app`).
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    Kind = tuple[str, str, int, str]

# Past this many kinds, those of earlier minutes are forgotten.
_KINDS_KEPT = 1024


@dataclass(slots=True)
class _Minute:
    minute: int
    logged: int = 0
    dropped: int = 0


def kind_of(record: logging.LogRecord) -> Kind:
    """What makes two records the same kind: the innermost frame of their exception and its
    type, else their logger, place and message template."""
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = (tb.tb_frame.f_code.co_filename, tb.tb_lineno) if tb else ("", 0)
        return (record.name, where[0], where[1], type(exc).__qualname__)
    return (record.name, record.pathname, record.lineno, str(record.msg))


class LogBudget(logging.Filter):
    """Lets through at most `per_minute` records of each kind per minute of `clock`."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._per_minute = per_minute
        self._clock = clock
        self._kinds: dict[Kind, _Minute] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        minute = int(self._clock() // 60)
        kind = kind_of(record)
        seen = self._kinds.get(kind)
        if seen is None or seen.minute != minute:
            dropped = seen.dropped if seen is not None else 0
            if seen is None and len(self._kinds) >= _KINDS_KEPT:
                self._kinds = {k: m for k, m in self._kinds.items() if m.minute == minute}
            seen = self._kinds[kind] = _Minute(minute, dropped=dropped)
        if seen.logged >= self._per_minute:
            seen.dropped += 1
            return False
        seen.logged += 1
        if seen.dropped:
            record.msg = f"{record.getMessage()} ({seen.dropped} more like it were not logged)"
            record.args = None
            seen.dropped = 0
        return True

    @contextlib.contextmanager
    def attached(self, *loggers: logging.Logger) -> Iterator[None]:
        """On `loggers` for the block."""
        for logger in loggers:
            logger.addFilter(self)
        try:
            yield
        finally:
            for logger in loggers:
                logger.removeFilter(self)
