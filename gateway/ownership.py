"""Who may see what (docs/protocol.md, Channels; docs/teams.md, Visibility), checked in
Postgres on every subscribe (one query however many channels it names), stream, snapshot,
listing and answer.

An execution or knowledge base belongs to its owner and the owner's workspace. A viewer sees
it when they are in that workspace and either own it or it is shared with the workspace
(`visibility: workspace`). A personal workspace (no workspace claim) has one member. Nothing
is ever visible from another workspace: there it does not exist (`not_found`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flowmaestro.gateway.errors import GatewayError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import asyncpg

    from flowmaestro.gateway.auth import Principal


@dataclass(frozen=True, slots=True)
class Owned:
    """Whose a resource is and who else may see it."""

    owner: str
    workspace: str | None
    visibility: str


_EXECUTION = "SELECT user_id, workspace_id, visibility FROM executions WHERE id = $1"
_KNOWLEDGE_BASE = "SELECT owner_id, workspace_id, visibility FROM knowledge_bases WHERE id = $1"

VISIBLE_SQL = (
    "workspace_id IS NOT DISTINCT FROM {workspace} AND ({owner} = {user} "
    "OR (workspace_id IS NOT NULL AND visibility = 'workspace'))"
)
"""The rule of `require_visible` as a condition on a row (a listing's WHERE)."""


async def execution_access(pool: asyncpg.Pool, execution_id: str) -> Owned | None:
    row = await pool.fetchrow(_EXECUTION, execution_id)
    return None if row is None else Owned(*row)


async def knowledge_base_access(pool: asyncpg.Pool, knowledge_base_id: str) -> Owned | None:
    row = await pool.fetchrow(_KNOWLEDGE_BASE, knowledge_base_id)
    return None if row is None else Owned(*row)


def require_visible(owned: Owned | None, viewer: Principal, what: str) -> None:
    """not_found when `what` does not exist or is in another workspace, forbidden when it
    is another member's private one."""
    if owned is None or owned.workspace != viewer.workspace:
        raise GatewayError("not_found", f"no {what}")
    if owned.owner == viewer.user_id:
        return
    if owned.workspace is None or owned.visibility != "workspace":
        raise GatewayError("forbidden", f"{what} belongs to another user")


def require_owner(owned: Owned | None, viewer: Principal, what: str) -> None:
    """As `require_visible`, and `forbidden` for a member who may watch but does not own
    it: changing it (cancelling, adding documents) is its owner's."""
    require_visible(owned, viewer, what)
    assert owned is not None
    if owned.owner != viewer.user_id:
        raise GatewayError("forbidden", f"only its owner may change {what}")


# Each requested channel's owner, workspace and visibility (owner NULL: no such execution or
# knowledge base) and, for an agent channel, whether the execution's flow has that agent (an
# agent node's `agentId`).
_OWNERS = """
SELECT q.i, coalesce(e.user_id, k.owner_id) AS owner,
       CASE WHEN q.kind = 'kb' THEN k.workspace_id ELSE e.workspace_id END AS workspace,
       coalesce(e.visibility, k.visibility) AS visibility,
       q.agent IS NULL OR EXISTS (
           SELECT 1 FROM jsonb_array_elements(
               CASE WHEN jsonb_typeof(e.graph -> 'nodes') = 'array' THEN e.graph -> 'nodes' END
           ) AS n
           WHERE n ->> 'type' = 'agent' AND coalesce(n ->> 'agentId', n ->> 'id') = q.agent
       ) AS agent_found
FROM unnest($1::int[], $2::text[], $3::text[], $4::text[]) AS q (i, kind, id, agent)
LEFT JOIN executions e ON q.kind <> 'kb' AND e.id = q.id
LEFT JOIN knowledge_bases k ON q.kind = 'kb' AND k.id = q.id
ORDER BY q.i
"""


def _parse(channel: str, user_id: str) -> tuple[str, str, str | None] | None:
    """(kind, the owned resource's id, the agent id) to look up, or None for the user's own
    channel; GatewayError for a name that is not a channel or another user's channel (an
    inbox channel comes with the user's own, never by name: docs/teams.md)."""
    kind, _, rest = channel.partition(":")
    if not rest:
        raise GatewayError("bad_request", f"{channel!r} is not a channel name")
    if kind == "user":
        if rest != user_id:
            raise GatewayError("forbidden", "another user's channel")
        return None
    if kind == "agent":
        # agent:{agentId}:{executionId}; execution ids never contain ':'.
        agent_id, _, execution_id = rest.rpartition(":")
        if not agent_id or not execution_id:
            raise GatewayError(
                "bad_request", f"{channel!r} is not agent:{{agentId}}:{{executionId}}"
            )
        return kind, execution_id, agent_id
    if kind in ("execution", "kb"):
        return kind, rest, None
    raise GatewayError("bad_request", f"unknown channel kind {kind!r}")


async def authorize_channels(
    pool: asyncpg.Pool, viewer: Principal, channels: Sequence[str]
) -> None:
    """Return if `viewer` may join every one of `channels` (one query for all of them);
    otherwise raise the GatewayError of the first it may not. An agent channel names an agent
    of its execution's flow, or it is not_found: no invented name becomes a room."""
    lookups = [(i, found) for i, ch in enumerate(channels) if (found := _parse(ch, viewer.user_id))]
    if not lookups:
        return
    rows = await pool.fetch(
        _OWNERS,
        [i for i, _ in lookups],
        [kind for _, (kind, _, _) in lookups],
        [rid for _, (_, rid, _) in lookups],
        [agent for _, (_, _, agent) in lookups],
    )
    for (_, (kind, rid, agent)), row in zip(lookups, rows, strict=True):
        what = f"knowledge base {rid}" if kind == "kb" else f"execution {rid}"
        owned = row["owner"] and Owned(row["owner"], row["workspace"], row["visibility"])
        require_visible(owned or None, viewer, what)
        if not row["agent_found"]:
            raise GatewayError("not_found", f"no agent {agent} in execution {rid}")
