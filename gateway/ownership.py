"""Who may join which channel (docs/protocol.md, Channels), checked in Postgres on every subscribe."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowmaestro.gateway.errors import GatewayError

if TYPE_CHECKING:
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


async def authorize_channel(pool: asyncpg.Pool, user_id: str, channel: str) -> None:
    """Return if `user_id` may join `channel`; raise GatewayError otherwise."""
    kind, _, rest = channel.partition(":")
    if not rest:
        raise GatewayError("bad_request", f"{channel!r} is not a channel name")
    if kind == "user":
        if rest != user_id:
            raise GatewayError("forbidden", "another user's channel")
    elif kind == "execution":
        require_owner(await execution_owner(pool, rest), user_id, f"execution {rest}")
    elif kind == "agent":
        # agent:{agentId}:{executionId}; execution ids never contain ':'.
        agent_id, _, execution_id = rest.rpartition(":")
        if not agent_id or not execution_id:
            raise GatewayError(
                "bad_request", f"{channel!r} is not agent:{{agentId}}:{{executionId}}"
            )
        require_owner(
            await execution_owner(pool, execution_id), user_id, f"execution {execution_id}"
        )
    elif kind == "kb":
        require_owner(await knowledge_base_owner(pool, rest), user_id, f"knowledge base {rest}")
    else:
        raise GatewayError("bad_request", f"unknown channel kind {kind!r}")
