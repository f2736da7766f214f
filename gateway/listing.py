"""GET /api/executions: the executions a user may see, newest first, one keyset page at a
time: their own, and their workspace's shared ones (gateway/ownership.py's rule).

The order is (created_at, id) descending; the cursor is the last row's pair, so a deep page
costs what the first one does. Each filter combination has its own statement, so every one
is planned on an index (migrations 0014, 0026): by user, by user and status, by user and
flow, and by workspace for the shared ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flowmaestro.gateway.query import pack_cursor, unpack_cursor
from flowmaestro.gateway.snapshot import summary

if TYPE_CHECKING:
    import asyncpg

    from flowmaestro.gateway.auth import Principal

_COLUMNS = "id, user_id, workflow_id, status, created_at, updated_at, visibility"


@dataclass(frozen=True, slots=True)
class Cursor:
    created_at: datetime
    execution_id: str

    def encode(self) -> str:
        return pack_cursor(self.created_at, self.execution_id)

    @classmethod
    def decode(cls, text: str) -> Cursor:
        created_at, [execution_id] = unpack_cursor(text, 1)
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
    viewer: Principal, filters: Filters, cursor: Cursor | None, limit: int
) -> tuple[str, list[Any]]:
    """The statement and its arguments for one page (one row more than `limit`, to tell
    whether another page follows).

    In a workspace, the viewer's private executions and the workspace's shared ones are two
    index scans in the same order, merged (disjoint by visibility, so nothing twice)."""
    args: list[Any] = [viewer.user_id]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    where: list[str] = []
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
    order = "ORDER BY created_at DESC, id DESC"
    top = f"LIMIT {arg(limit + 1)}"

    def select(*scope: str) -> str:
        return f"SELECT {_COLUMNS} FROM executions WHERE {' AND '.join([*scope, *where])} {order}"

    if viewer.workspace is None:
        return f"{select('user_id = $1', 'workspace_id IS NULL')} {top}", args
    workspace = arg(viewer.workspace)
    own = select("user_id = $1", f"workspace_id = {workspace}", "visibility = 'private'")
    shared = select(f"workspace_id = {workspace}", "visibility = 'workspace'")
    return f"({own} {top}) UNION ALL ({shared} {top}) {order} {top}", args


async def list_page(
    pool: asyncpg.Pool, viewer: Principal, filters: Filters, cursor: Cursor | None, limit: int
) -> dict[str, Any]:
    sql, args = listing_query(viewer, filters, cursor, limit)
    rows = await pool.fetch(sql, *args)
    page, more = rows[:limit], len(rows) > limit
    last = page[-1] if page else None
    return {
        "executions": [summary(r) for r in page],
        "nextCursor": Cursor(last["created_at"], last["id"]).encode() if more and last else None,
    }
