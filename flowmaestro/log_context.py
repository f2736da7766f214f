"""The ids a log line carries where the code that logs has them (execution, node), set for a
block with `log_fields(...)`; JSON logs (flowmaestro.logs) add them to every line."""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

_FIELDS: ContextVar[dict[str, str]] = ContextVar("flowmaestro_log_fields", default={})  # noqa: B039


def current_fields() -> dict[str, str]:
    return _FIELDS.get()


@contextlib.contextmanager
def log_fields(**fields: str | None) -> Iterator[None]:
    """Within the block (and tasks it starts), log lines carry these fields."""
    token = _FIELDS.set(
        {**_FIELDS.get(), **{name: value for name, value in fields.items() if value is not None}}
    )
    try:
        yield
    finally:
        _FIELDS.reset(token)
