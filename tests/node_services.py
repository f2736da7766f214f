"""The services a test's node executors get: the real egress guard (open to the tests'
local servers through the operator allowlist, as an operator would configure it)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import httpx

from flowmaestro.activities.nodes.base import NodeServices
from flowmaestro.activities.render_pool import RenderPool
from flowmaestro.security import Limits
from flowmaestro.security.egress import EgressGuard

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import asyncpg

    from flowmaestro.activities.agent.services import AgentServices
    from flowmaestro.security.egress import Resolver

LOCAL = Limits(egress_allow=("127.0.0.1/32",))
"""The tests' HTTP servers listen on loopback: the operator allowlist opens exactly that."""


@contextlib.asynccontextmanager
async def node_services(
    pool: asyncpg.Pool | None = None,
    *,
    http: httpx.AsyncClient | None = None,
    agents: AgentServices | None = None,
    limits: Limits = LOCAL,
    resolver: Resolver | None = None,
) -> AsyncIterator[NodeServices]:
    async with contextlib.AsyncExitStack() as stack:
        if http is None:
            http = await stack.enter_async_context(httpx.AsyncClient())
        egress = await stack.enter_async_context(EgressGuard(limits, resolver=resolver))
        renderer = await stack.enter_async_context(RenderPool(limits))
        yield NodeServices(
            http=http, egress=egress, renderer=renderer, limits=limits, pool=pool, agents=agents
        )
