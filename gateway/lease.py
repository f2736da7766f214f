"""A gateway process's lease in Postgres (`gateway_leases`): what the process writes on behalf
of its sockets (presence, its shares of users' budgets) lives under it. The process renews it
every heartbeat (`Presence.run`); a process that dies stops renewing, and once the lease has
expired another gateway sweeps it and, by the cascade, everything written under it.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import asyncpg

_RENEW = """
INSERT INTO gateway_leases (gateway_id, expires_at) VALUES ($1, now() + make_interval(secs => $2))
ON CONFLICT (gateway_id) DO UPDATE SET expires_at = EXCLUDED.expires_at
RETURNING (xmax = 0) AS created
"""


class GatewayLease:
    def __init__(self, pool: asyncpg.Pool, ttl: float, gateway_id: str | None = None) -> None:
        self._pool = pool
        self.ttl = ttl
        self.gateway_id = gateway_id or uuid.uuid4().hex
        self._restores: list[Callable[[], Awaitable[None]]] = []

    def on_new(self, restore: Callable[[], Awaitable[None]]) -> None:
        """Call `restore` whenever the lease is new: what was written under an old one is gone
        (swept while Postgres was away longer than the lease), and must be written again."""
        self._restores.append(restore)

    async def renew(self) -> None:
        created = await self._pool.fetchval(_RENEW, self.gateway_id, self.ttl)
        if created:
            for restore in self._restores:
                await restore()
