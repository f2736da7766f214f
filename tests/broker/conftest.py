from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.broker.servers import BINARIES, BrokerServer, broker_server

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@pytest.fixture(params=["nats", "redis"])
async def server(request: pytest.FixtureRequest) -> AsyncIterator[BrokerServer]:
    """A throwaway broker of each kind (skipped where its server binary is missing)."""
    kind: str = request.param
    if BINARIES[kind] is None:
        pytest.skip(f"{kind} server binary not installed")
    async with broker_server(kind) as s:
        yield s


@pytest.fixture
async def nats_server() -> AsyncIterator[BrokerServer]:
    if BINARIES["nats"] is None:
        pytest.skip("nats-server not installed")
    async with broker_server("nats") as s:
        yield s
