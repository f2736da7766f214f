"""Who may join which channel (docs/protocol.md, Channels), checked in Postgres on every
subscribe: one query however many channels it names."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowmaestro.gateway.errors import GatewayError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import asyncpg


async def execution_owner(pool: asyncpg.Pool, execution_id: str) -> str | None:
    owner: str | None = await pool.fetchval(
        "SELECT user_id FROM executions WHERE id = $1", execution_id
    )
    return owner


async def knowledge_base_owner(pool: asyncpg.Pool, knowledge_base_id: str) -> str | None:
    owner: str | None = await pool.fetchval(
        "SELECT owner_id FROM knowledge_bases WHERE id = $1", knowledge_base_id
    )
    return owner


def require_owner(owner: str | None, user_id: str, what: str) -> None:
    """not_found when `what` does not exist, forbidden when someone else owns it."""
    if owner is None:
        raise GatewayError("not_found", f"no {what}")
    if owner != user_id:
        raise GatewayError("forbidden", f"{what} belongs to another user")


# Each requested channel's owner (NULL: no such execution or knowledge base) and, for an
# agent channel, whether the execution's flow has that agent (an agent node's `agentId`).
_OWNERS = """
SELECT q.i, coalesce(e.user_id, k.owner_id) AS owner,
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
    channel; GatewayError for a name that is not a channel or another user's channel."""
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


async def authorize_channels(pool: asyncpg.Pool, user_id: str, channels: Sequence[str]) -> None:
    """Return if `user_id` may join every one of `channels` (one query for all of them);
    otherwise raise the GatewayError of the first it may not. An agent channel names an agent
    of its execution's flow, or it is not_found: no invented name becomes a room."""
    lookups = [(i, found) for i, ch in enumerate(channels) if (found := _parse(ch, user_id))]
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
        require_owner(row["owner"], user_id, what)
        if not row["agent_found"]:
            raise GatewayError("not_found", f"no agent {agent} in execution {rid}")
