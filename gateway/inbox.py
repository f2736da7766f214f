"""GET /api/inbox: the open prompts waiting for the caller (docs/teams.md, Inbox), oldest
first, one keyset page at a time.

A prompt waits for the caller when it is in an execution they may see (the visibility rule
of gateway/ownership.py) and names them or one of their groups as assignees, or has none
and the execution is theirs; under `exclude_requester` never the execution's owner. The
prompts are read from the executions' durable state (events/execution_state.py), so the
inbox is exactly what an answer would be checked against; only executions with an open
prompt are read (partial indexes of migrations 0027, 0028).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flowmaestro.gateway.query import pack_cursor, unpack_cursor

if TYPE_CHECKING:
    import asyncpg

    from flowmaestro.gateway.auth import Principal

_PROMPTING = "e.state -> 'pendingInputs' <> '{}'::jsonb"
_PROMPTS = """
SELECT e.id, e.workflow_id, e.user_id, p.key AS input_id, p.value -> 0 AS prompt,
       (p.value ->> 1)::timestamptz AS asked_at
FROM executions e CROSS JOIN LATERAL jsonb_each(e.state -> 'pendingInputs') AS p
WHERE {scope} AND {prompting}
  AND CASE WHEN p.value -> 0 -> 'assignees' IS NULL THEN e.user_id = $1
           ELSE p.value -> 0 -> 'assignees' -> 'users' ? $1
                OR p.value -> 0 -> 'assignees' -> 'groups' ?| $2::text[] END
  AND NOT (e.user_id = $1 AND coalesce(p.value -> 0 -> 'excludeRequester' = 'true', false))
  {after}
ORDER BY asked_at, e.id, p.key
LIMIT $3
"""


@dataclass(frozen=True, slots=True)
class InboxCursor:
    asked_at: datetime
    execution_id: str
    input_id: str

    def encode(self) -> str:
        return pack_cursor(self.asked_at, self.execution_id, self.input_id)

    @classmethod
    def decode(cls, text: str) -> InboxCursor:
        asked_at, [execution_id, input_id] = unpack_cursor(text, 2)
        return cls(asked_at, execution_id, input_id)


def inbox_query(viewer: Principal, cursor: InboxCursor | None, limit: int) -> tuple[str, list[Any]]:
    """The statement and its arguments for one page (one row more than `limit`)."""
    args: list[Any] = [viewer.user_id, sorted(viewer.groups), limit + 1]
    if viewer.workspace is None:
        scope = "e.user_id = $1 AND e.workspace_id IS NULL"
    else:
        args.append(viewer.workspace)
        scope = f"e.workspace_id = ${len(args)} AND (e.user_id = $1 OR e.visibility = 'workspace')"
    after = ""
    if cursor is not None:
        args += [cursor.asked_at, cursor.execution_id, cursor.input_id]
        n = len(args)
        after = f"AND ((p.value ->> 1)::timestamptz, e.id, p.key) > (${n - 2}, ${n - 1}, ${n})"
    return _PROMPTS.format(scope=scope, prompting=_PROMPTING, after=after), args


async def inbox_page(
    pool: asyncpg.Pool, viewer: Principal, cursor: InboxCursor | None, limit: int
) -> dict[str, Any]:
    sql, args = inbox_query(viewer, cursor, limit)
    rows = await pool.fetch(sql, *args)
    page, more = rows[:limit], len(rows) > limit
    last = page[-1] if page else None
    return {
        "prompts": [
            {
                "executionId": r["id"],
                "flowName": r["workflow_id"],
                "ownerId": r["user_id"],
                "askedAt": r["asked_at"].isoformat(),
                **json.loads(r["prompt"]),
            }
            for r in page
        ],
        "nextCursor": (
            InboxCursor(last["asked_at"], last["id"], last["input_id"]).encode()
            if more and last
            else None
        ),
    }
