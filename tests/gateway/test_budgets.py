"""Per-user budgets across gateway processes: each `UserBudgets` here stands for one process
(its own lease), all on one Postgres, as several gateways on several hosts would be."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

import pytest

from flowmaestro.gateway.budgets import Hold, Rate, SyncedRate, UserBudgets
from flowmaestro.gateway.errors import GatewayError, RateLimitedError
from flowmaestro.gateway.lease import GatewayLease

if TYPE_CHECKING:
    import asyncpg

SOCKETS = Hold("user_max_sockets", 3, "open sockets")
READS = Rate("user_reads_per_second", 1.0, 5.0, "read requests")


class CountingPool:
    """The pool, counting the statements sent through it."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.statements = 0

    async def fetchval(self, *args: Any) -> Any:
        self.statements += 1
        return await self._pool.fetchval(*args)

    async def execute(self, *args: Any) -> Any:
        self.statements += 1
        return await self._pool.execute(*args)

    async def fetch(self, *args: Any) -> Any:
        self.statements += 1
        return await self._pool.fetch(*args)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def process(
    pool: asyncpg.Pool, ttl: float = 30.0, clock: Clock | None = None
) -> tuple[UserBudgets, CountingPool]:
    counting = CountingPool(pool)
    lease = GatewayLease(cast("asyncpg.Pool", counting), ttl)
    await lease.renew()
    budgets = UserBudgets(cast("asyncpg.Pool", counting), lease, clock=clock or Clock())
    return budgets, counting


async def refused_code(hold: Any) -> str:
    with pytest.raises(GatewayError) as refused:
        await hold
    return refused.value.code


async def test_a_hold_counts_every_process(pool: asyncpg.Pool) -> None:
    a, _ = await process(pool)
    b, _ = await process(pool)
    await a.hold("mallory", SOCKETS, 2)
    await b.hold("mallory", SOCKETS)
    assert await refused_code(b.hold("mallory", SOCKETS)) == "quota_exceeded"
    assert await refused_code(a.hold("mallory", SOCKETS)) == "quota_exceeded"
    await a.hold("alice", SOCKETS, 3)  # users are counted apart
    a.release("mallory", SOCKETS)
    await a.flush()
    clock = Clock()
    c, _ = await process(pool, clock=clock)
    await c.hold("mallory", SOCKETS)  # what a gave back, another process may take
    assert await refused_code(c.hold("mallory", SOCKETS)) == "quota_exceeded"


async def test_concurrent_holds_on_two_processes_never_pass_the_maximum(
    pool: asyncpg.Pool,
) -> None:
    a, _ = await process(pool)
    b, _ = await process(pool)
    results = await asyncio.gather(
        *(p.hold("mallory", SOCKETS) for p in (a, b) * 10), return_exceptions=True
    )
    assert sum(r is None for r in results) == SOCKETS.maximum
    assert all(isinstance(r, GatewayError) for r in results if r is not None)


async def test_a_dead_process_never_locks_a_user_out(pool: asyncpg.Pool) -> None:
    dead, _ = await process(pool)
    await dead.hold("mallory", SOCKETS, 3)
    clock = Clock()
    alive, _ = await process(pool, clock=clock)
    assert await refused_code(alive.hold("mallory", SOCKETS)) == "quota_exceeded"
    # The dead process never renews: once its lease has run out its shares count no more,
    # swept or not (its lease is the older one).
    await pool.execute(
        "UPDATE gateway_leases SET expires_at = now() - interval '1 second'"
        " WHERE gateway_id = (SELECT min(gateway_id) FROM budget_holds)"
    )
    clock.now += 1.5  # past the refusal this process remembers
    await alive.hold("mallory", SOCKETS, 3)


async def test_a_swept_lease_is_renewed_and_its_shares_written_again(pool: asyncpg.Pool) -> None:
    a, _ = await process(pool)
    await a.hold("mallory", SOCKETS, 2)
    await pool.execute("DELETE FROM gateway_leases")  # swept while Postgres was away
    assert await pool.fetchval("SELECT count(*) FROM budget_holds") == 0
    await a.hold("mallory", SOCKETS)  # renews, writes its 2 again, then takes 1
    assert await pool.fetchval("SELECT sum(held) FROM budget_holds") == 3
    b, _ = await process(pool)
    assert await refused_code(b.hold("mallory", SOCKETS)) == "quota_exceeded"


async def test_releases_are_batched_and_retaken_without_a_round_trip(pool: asyncpg.Pool) -> None:
    a, counting = await process(pool)
    many = Hold("user_max_sockets", 1000, "open sockets")
    for _ in range(100):
        await a.hold("mallory", many)
    before = counting.statements
    for _ in range(100):  # a disconnect storm
        a.release("mallory", many)
    for _ in range(40):  # a reconnect storm before the releases were written
        await a.hold("mallory", many)
    assert counting.statements == before
    await a.flush()
    assert counting.statements == before + 1
    assert await pool.fetchval("SELECT sum(held) FROM budget_holds") == 40


async def test_a_refused_hold_is_remembered_for_a_moment(pool: asyncpg.Pool) -> None:
    clock = Clock()
    a, counting = await process(pool, clock=clock)
    await a.hold("mallory", SOCKETS, 3)
    assert await refused_code(a.hold("mallory", SOCKETS)) == "quota_exceeded"
    before = counting.statements
    for _ in range(50):
        assert await refused_code(a.hold("mallory", SOCKETS)) == "quota_exceeded"
    assert counting.statements == before
    clock.now += 1.5
    assert await refused_code(a.hold("mallory", SOCKETS)) == "quota_exceeded"
    assert counting.statements == before + 1


async def test_a_rate_is_shared_by_every_process(pool: asyncpg.Pool) -> None:
    clock = Clock()
    a, counting = await process(pool, clock=clock)
    b, _ = await process(pool, clock=clock)
    for p in (a, b, a, b, a):  # the burst of 5, across two processes
        await p.spend("mallory", READS)
    with pytest.raises(RateLimitedError) as refused:
        await b.spend("mallory", READS)
    assert refused.value.code == "rate_limited"
    assert 0 < refused.value.retry_after <= 1.0
    assert refused.value.details == {"limit": "user_reads_per_second", "maximum": 1.0}
    before = counting.statements
    with pytest.raises(RateLimitedError):
        await b.spend("mallory", READS)  # remembered here: no round trip
    await a.spend("alice", READS)
    assert counting.statements == before + 1


async def test_spending_into_debt_refuses_until_it_is_paid(pool: asyncpg.Pool) -> None:
    a, _ = await process(pool)
    replayed = Rate("user_replay_bytes_per_minute", 100.0, 6000.0, "replayed bytes")
    await a.check("mallory", replayed)
    await a.spend("mallory", replayed, 5000, debt=True)
    with pytest.raises(RateLimitedError) as overdrawn:
        await a.spend("mallory", replayed, 5000, debt=True)  # spent all the same
    assert 35 < overdrawn.value.retry_after <= 40  # 4000 bytes below zero, at 100 a second
    b, _ = await process(pool)
    with pytest.raises(RateLimitedError):
        await b.check("mallory", replayed)


MESSAGES = Rate("user_messages_per_second", 0.01, 10.0, "socket messages")


async def test_socket_messages_are_counted_across_processes_when_synced(
    pool: asyncpg.Pool,
) -> None:
    """Each process decides at once from its own bucket and what the shared one last said;
    a sync writes what it spent, and a user it leaves in debt is refused there until paid."""
    clock = Clock()
    here, there = SyncedRate(pool, MESSAGES, clock=clock), SyncedRate(pool, MESSAGES, clock=clock)
    for _ in range(6):  # 12 of a burst of 10, each process within its own bucket
        here.spend("mallory")
        there.spend("mallory")
    await here.sync()  # 6 of 10: no debt
    await there.sync()  # 12 of 10: 2 owed, 200 s at 0.01 a second
    with pytest.raises(RateLimitedError) as refused:
        there.spend("mallory")  # its own bucket holds 4: the shared debt refuses it
    assert refused.value.details == {"limit": "user_messages_per_second", "maximum": 0.01}
    assert refused.value.retry_after == pytest.approx(200, abs=1)
    here.spend("mallory")  # it has not heard yet
    await here.sync()
    with pytest.raises(RateLimitedError):
        here.spend("mallory")
    there.spend("alice")  # another user's budget is whole
    clock.now += 301  # the debt (3 tokens) is paid
    there.spend("mallory")


async def test_a_sync_is_one_statement_however_many_users(pool: asyncpg.Pool) -> None:
    counting = CountingPool(pool)
    rate = SyncedRate(cast("asyncpg.Pool", counting), MESSAGES)
    for n in range(50):
        rate.spend(f"user{n}")
    await rate.sync()
    await rate.sync()  # nothing spent since: no statement
    assert counting.statements == 1
    balances = await pool.fetch(
        "SELECT tokens FROM user_budgets WHERE budget = $1 AND user_id LIKE 'user%'", MESSAGES.name
    )
    assert len(balances) == 50
    assert {round(r["tokens"]) for r in balances} == {9}


async def test_spends_a_failed_sync_could_not_write_are_written_by_the_next(
    pool: asyncpg.Pool,
) -> None:
    class Flaky:
        away = True

        async def fetch(self, *args: Any) -> Any:
            if self.away:
                raise OSError("connection refused")
            return await pool.fetch(*args)

    flaky = Flaky()
    rate = SyncedRate(cast("asyncpg.Pool", flaky), MESSAGES)
    for _ in range(10):
        rate.spend("mallory")
    with pytest.raises(OSError):
        await rate.sync()
    flaky.away = False
    await rate.sync()
    tokens = await pool.fetchval(
        "SELECT tokens FROM user_budgets WHERE user_id = 'mallory' AND budget = $1", MESSAGES.name
    )
    assert round(tokens) == 0
