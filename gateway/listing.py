"""GET /api/executions: a user's executions, newest first, one keyset page at a time.

The order is (created_at, id) descending; the cursor is the last row's pair, so a deep page
costs what the first one does. Each filter combination has its own statement, so every one
is planned on an index (migration 0014): by user, by user and status, by user and flow.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flowmaestro.gateway.errors import GatewayError
from flowmaestro.gateway.query import in_utc
from flowmaestro.gateway.snapshot import summary
from flowmaestro.security import storable

if TYPE_CHECKING:
    import asyncpg

_COLUMNS = "id, user_id, workflow_id, status, created_at, updated_at"


@dataclass(frozen=True, slots=True)
class Cursor:
    created_at: datetime
    execution_id: str

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.execution_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            stamp, _, execution_id = raw.partition("|")
            created_at = in_utc(datetime.fromisoformat(stamp))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise GatewayError("bad_request", "cursor is not one this API gave out") from None
        if not execution_id or not storable(execution_id):
            raise GatewayError("bad_request", "cursor is not one this API gave out")
        return cls(created_at, execution_id)


@dataclass(frozen=True, slots=True)
class Filters:
    status: str | None = None
    flow: str | None = None
    since: datetime | None = None
    """created at or after"""
    until: datetime | None = None
    """created before"""


def listing_query(
    user_id: str, filters: Filters, cursor: Cursor | None, limit: int
) -> tuple[str, list[Any]]:
    """The statement and its arguments for one page (one row more than `limit`, to tell
    whether another page follows)."""
    args: list[Any] = [user_id]
    where = ["user_id = $1"]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if filters.status is not None:
        where.append(f"status = {arg(filters.status)}")
    if filters.flow is not None:
        where.append(f"workflow_id = {arg(filters.flow)}")
    if filters.since is not None:
        where.append(f"created_at >= {arg(filters.since)}")
    if filters.until is not None:
        where.append(f"created_at < {arg(filters.until)}")
    if cursor is not None:
        where.append(f"(created_at, id) < ({arg(cursor.created_at)}, {arg(cursor.execution_id)})")
    sql = (
        f"SELECT {_COLUMNS} FROM executions WHERE {' AND '.join(where)} "
        f"ORDER BY created_at DESC, id DESC LIMIT {arg(limit + 1)}"
    )
    return sql, args


async def list_page(
    pool: asyncpg.Pool, user_id: str, filters: Filters, cursor: Cursor | None, limit: int
) -> dict[str, Any]:
    sql, args = listing_query(user_id, filters, cursor, limit)
    rows = await pool.fetch(sql, *args)
    page, more = rows[:limit], len(rows) > limit
    last = page[-1] if page else None
    return {
        "executions": [summary(r) for r in page],
        "nextCursor": Cursor(last["created_at"], last["id"]).encode() if more and last else None,
    }
