"""Per-user budgets counted across every gateway process and host: the one mechanism for
"how much of X may one user have or do", kept in Postgres (migration 0024).

Two kinds:
- a `Hold` bounds what a user has open at once (sockets, channels, streams, replays). Each
  gateway process writes its share under its lease (`GatewayLease`), so a killed process's
  shares are swept with its lease and never lock a user out. Taking is exact across processes
  (one round trip, the user's row locked); giving back is batched: a disconnect storm is a few
  writes, not one per socket, and a hold taken again before its release was written costs
  nothing.
- a `Rate` is a token bucket (`rate` a second, at most `burst`), exact across processes, one
  round trip per spend; or, for socket messages, `SyncedRate`: decided at once in the
  process, and written to the same shared bucket in batches.

A refusal is remembered in the process (a hold's for `refusal_memory` seconds or until this
process gives some back; a rate's until its tokens are back), so an attacker hammering past a
budget costs no round trip per attempt. Nothing here runs per event delivered.

Usage: `held = await budgets.take(user, Hold(...))` ... `held.release()` (or
`async with budgets.holding(...)`, or `hold`/`release` by count); `await budgets.spend(user,
Rate(...))`. Run `run()`
for the process's lifetime (it writes the releases).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import asyncpg

from flowmaestro.gateway.errors import GatewayError, RateLimitedError, UnavailableError
from flowmaestro.gateway.transport import TokenBucket

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from flowmaestro.gateway.lease import GatewayLease
    from flowmaestro.security import Limits

log = logging.getLogger(__name__)

_HOLD = "SELECT budget_hold($1, $2, $3, $4, $5)"
_RELEASE = "SELECT budget_release($1, $2::text[], $3::text[], $4::int[])"
_RESTORE = """
INSERT INTO budget_holds (user_id, budget, gateway_id, held)
SELECT u, b, $1, n FROM unnest($2::text[], $3::text[], $4::int[]) AS r (u, b, n)
ON CONFLICT (user_id, budget, gateway_id) DO UPDATE SET held = EXCLUDED.held
"""
_SPEND = "SELECT budget_spend($1, $2, $3, $4, $5, $6)"
# Many users' spends in one statement, in debt; each row's wait > 0 while its user owes.
_SYNC = """
SELECT r.u, budget_spend(r.u, $3, r.n, $4, $5, true)
FROM unnest($1::text[], $2::float8[]) WITH ORDINALITY AS r (u, n, i) ORDER BY r.i
"""
# Past this many remembered refusals, the ones that have run out are forgotten.
_FORGET_AT = 10_000
_FAILURES = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


@dataclass(frozen=True, slots=True)
class Hold:
    """At most `maximum` at once per user; `name` is its `Limits` field."""

    name: str
    maximum: int
    what: str
    """What is counted, for the refusal's message ("sockets")."""


@dataclass(frozen=True, slots=True)
class Rate:
    """`rate` a second on average per user, `burst` at once; `name` is its `Limits` field."""

    name: str
    rate: float
    burst: float
    what: str


@dataclass(frozen=True, slots=True)
class UserLimits:
    """The gateway's per-user budgets, from `Limits` (docs/security.md)."""

    sockets: Hold
    channels: Hold
    streams: Hold
    replays: Hold
    replayed_bytes: Rate
    presence: Rate
    reads: Rate
    writes: Rate
    messages: Rate
    """Synced in batches (`SyncedRate`): every socket message, too many for a round trip."""

    @classmethod
    def of(cls, limits: Limits) -> UserLimits:
        return cls(
            sockets=Hold("user_max_sockets", limits.user_max_sockets, "open sockets"),
            channels=Hold("user_max_channels", limits.user_max_channels, "subscribed channels"),
            streams=Hold("user_max_streams", limits.user_max_streams, "open event streams"),
            replays=Hold("user_max_replays", limits.user_max_replays, "replays at once"),
            replayed_bytes=Rate(
                "user_replay_bytes_per_minute",
                limits.user_replay_bytes_per_minute / 60,
                limits.user_replay_bytes_per_minute,
                "replayed bytes",
            ),
            presence=Rate(
                "user_presence_changes_per_second",
                limits.user_presence_changes_per_second,
                limits.user_presence_change_burst,
                "presence changes",
            ),
            reads=Rate(
                "user_reads_per_second",
                limits.user_reads_per_second,
                limits.user_read_burst,
                "read requests",
            ),
            writes=Rate(
                "user_writes_per_second",
                limits.user_writes_per_second,
                limits.user_write_burst,
                "writes",
            ),
            messages=Rate(
                "user_messages_per_second",
                limits.user_messages_per_second,
                limits.user_message_burst,
                "socket messages",
            ),
        )


def quota_exceeded(budget: Hold) -> GatewayError:
    return GatewayError(
        "quota_exceeded",
        f"too many {budget.what}: at most {budget.maximum} per user",
        {"limit": budget.name, "maximum": budget.maximum},
    )


def rate_limited(budget: Rate, wait: float) -> RateLimitedError:
    return RateLimitedError(
        f"too many {budget.what}; retry in {wait:.1f} s",
        wait,
        {"limit": budget.name, "maximum": budget.rate},
    )


class SyncedRate:
    """A `Rate` per user for what costs too little to pay a round trip each (every socket
    message), still counted across every process. A spend is decided here at once, in
    order, with no I/O: by this process's own bucket (which protects its loop) and by what
    the shared bucket last said. Every `interval` seconds the messages spent here since are
    written to the user's shared bucket in one statement, in debt; a user it finds below
    zero is refused here until the debt is paid back. Behind N processes a user therefore
    keeps the rate over time; before a sync notices, one burst may pass in each process, and
    it is paid back in refusals. Should Postgres be away, counts wait for the next sync and
    each process's own bucket still holds."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        budget: Rate,
        *,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pool = pool
        self._budget = budget
        self._interval = interval
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._spent: dict[str, int] = {}
        """user -> spent here since the last sync."""
        self._owing: dict[str, float] = {}
        """user -> until when (clock time) the shared bucket is in debt."""
        self._dirty = asyncio.Event()

    def spend(self, user_id: str) -> None:
        """One of `user_id`'s, or `rate_limited`."""
        now = self._clock()
        owing_until = self._owing.get(user_id)
        if owing_until is not None:
            if now < owing_until:
                raise rate_limited(self._budget, owing_until - now)
            del self._owing[user_id]
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= _FORGET_AT:  # idle users' full buckets go
                self._buckets = {u: b for u, b in self._buckets.items() if not b.full()}
            bucket = self._buckets[user_id] = TokenBucket(
                self._budget.rate, int(self._budget.burst)
            )
        if not bucket.take():
            raise rate_limited(self._budget, bucket.retry_after())
        self._spent[user_id] = self._spent.get(user_id, 0) + 1
        self._dirty.set()

    async def run(self, retry_after: float = 1.0) -> None:
        """Sync what was spent, at most every `interval` seconds, for the process's life."""
        await _write_when_dirty(
            self._dirty, self.sync, "count socket messages", retry_after, self._interval
        )

    async def sync(self) -> None:
        """Write what was spent here since the last sync, in one statement; refuse, until
        their debt is paid, the users it leaves below zero."""
        spent, self._spent = self._spent, {}
        if not spent:
            return
        users = sorted(spent)  # rows locked in one order by every process: no deadlock
        try:
            rows = await self._pool.fetch(
                _SYNC,
                users,
                [float(spent[u]) for u in users],
                self._budget.name,
                self._budget.rate,
                self._budget.burst,
            )
        except BaseException:
            for user, count in spent.items():
                self._spent[user] = self._spent.get(user, 0) + count
            self._dirty.set()
            raise
        now = self._clock()
        if len(self._owing) >= _FORGET_AT:
            self._owing = {u: t for u, t in self._owing.items() if t > now}
        for user, wait in rows:
            if wait > 0:
                self._owing[user] = now + wait


async def _write_when_dirty(
    dirty: asyncio.Event,
    write: Callable[[], Awaitable[None]],
    what: str,
    retry_after: float,
    interval: float = 0.0,
) -> None:
    """Call `write` each time `dirty` is set (at most every `interval` seconds), for the
    process's lifetime; a failed write is logged and tried again after `retry_after`
    (`write` keeps what it could not write)."""
    while True:
        await dirty.wait()
        dirty.clear()
        try:
            await write()
        except _FAILURES as exc:
            log.warning("cannot %s (%s); retrying", what, exc)
            await asyncio.sleep(retry_after)
        else:
            await asyncio.sleep(interval)


def _columns(counts: dict[tuple[str, str], int]) -> tuple[list[str], list[str], list[int]]:
    """(users, budgets, counts) as three arrays, for unnest()."""
    return [k[0] for k in counts], [k[1] for k in counts], list(counts.values())


class Held:
    """What one `UserBudgets.take` holds; `release()` gives it back, once."""

    __slots__ = ("_budget", "_budgets", "_count", "_user_id")

    def __init__(self, budgets: Budgets, user_id: str, budget: Hold, count: int) -> None:
        self._budgets: Budgets | None = budgets
        self._user_id = user_id
        self._budget = budget
        self._count = count

    def release(self) -> None:
        if self._budgets is not None:
            self._budgets.release(self._user_id, self._budget, self._count)
            self._budgets = None


class Budgets(Protocol):
    """What spends and holds budgets (`UserBudgets`; tests may give an in-memory one)."""

    async def hold(self, user_id: str, budget: Hold, count: int = 1) -> None: ...

    def release(self, user_id: str, budget: Hold, count: int = 1) -> None: ...

    async def take(self, user_id: str, budget: Hold, count: int = 1) -> Held: ...

    async def spend(
        self, user_id: str, budget: Rate, amount: float = 1.0, *, debt: bool = False
    ) -> None: ...

    async def check(self, user_id: str, budget: Rate) -> None: ...


class UserBudgets:
    """`Budgets` counted in Postgres, across every process that shares it."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        lease: GatewayLease,
        *,
        refusal_memory: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pool = pool
        self._lease = lease
        self._refusal_memory = refusal_memory
        self._clock = clock
        self._held: dict[tuple[str, str], int] = {}
        """(user, budget) -> what this process holds."""
        self._unflushed: dict[tuple[str, str], int] = {}
        """(user, budget) -> given back here, not yet written."""
        self._refused: dict[tuple[str, str], float] = {}
        """(user, budget) -> until when a refusal stands (clock time)."""
        self._dirty = asyncio.Event()
        lease.on_new(self._restore)

    # -- holds -----------------------------------------------------------------------

    async def hold(self, user_id: str, budget: Hold, count: int = 1) -> None:
        """Take `count` of `budget` for `user_id`, or raise `quota_exceeded`."""
        key = (user_id, budget.name)
        if count > budget.maximum:
            raise quota_exceeded(budget)
        # Given back here but not yet written: taking it again costs no round trip.
        pending = self._unflushed.pop(key, 0)
        reused = min(count, pending)
        if pending > reused:
            self._unflushed[key] = pending - reused
        if reused < count:
            if self._clock() < self._refused.get(key, 0.0):
                self._unflush(key, reused)
                raise quota_exceeded(budget)
            try:
                taken = await self._take(user_id, budget, count - reused)
            except BaseException:
                self._unflush(key, reused)
                raise
            if not taken:
                self._unflush(key, reused)
                self._refuse(key, self._refusal_memory)
                raise quota_exceeded(budget)
        self._held[key] = self._held.get(key, 0) + count

    async def _take(self, user_id: str, budget: Hold, count: int) -> bool:
        for _ in range(2):
            total: int = await self._pool.fetchval(
                _HOLD, self._lease.gateway_id, user_id, budget.name, count, budget.maximum
            )
            if total >= 0:
                return total + count <= budget.maximum
            await self._lease.renew()  # no live lease: renew it (it writes our shares again)
        raise UnavailableError("postgres", "the gateway's lease cannot be renewed")

    def release(self, user_id: str, budget: Hold, count: int = 1) -> None:
        """Give back `count` of what `hold` took (written soon, in a batch)."""
        key = (user_id, budget.name)
        held = self._held.get(key, 0)
        count = min(count, held)
        if count <= 0:
            return
        if held == count:
            del self._held[key]
        else:
            self._held[key] = held - count
        self._refused.pop(key, None)
        self._unflush(key, count)

    async def take(self, user_id: str, budget: Hold, count: int = 1) -> Held:
        """`hold`, returning what gives it back (once, however often it is called)."""
        await self.hold(user_id, budget, count)
        return Held(self, user_id, budget, count)

    @contextlib.asynccontextmanager
    async def holding(self, user_id: str, budget: Hold, count: int = 1) -> AsyncIterator[None]:
        held = await self.take(user_id, budget, count)
        try:
            yield
        finally:
            held.release()

    def _refuse(self, key: tuple[str, str], seconds: float) -> None:
        now = self._clock()
        if len(self._refused) >= _FORGET_AT:
            self._refused = {k: t for k, t in self._refused.items() if t > now}
        self._refused[key] = now + seconds

    def _unflush(self, key: tuple[str, str], count: int) -> None:
        if count > 0:
            self._unflushed[key] = self._unflushed.get(key, 0) + count
            self._dirty.set()

    async def run(self, retry_after: float = 1.0) -> None:
        """Write what was given back, in batches, for the process's lifetime. (Kept and
        written later when Postgres is away; meanwhile the user's total reads high, never
        low.)"""
        await _write_when_dirty(self._dirty, self.flush, "write released budgets", retry_after)

    async def flush(self) -> None:
        """Write every release not yet written, in one statement."""
        batch, self._unflushed = self._unflushed, {}
        if not batch:
            return
        try:
            await self._pool.execute(_RELEASE, self._lease.gateway_id, *_columns(batch))
        except BaseException:
            for key, count in batch.items():
                self._unflush(key, count)
            raise

    async def _restore(self) -> None:
        """The lease is new: our shares were swept with the old one; write them again."""
        self._unflushed.clear()
        await self._pool.execute(_RESTORE, self._lease.gateway_id, *_columns(dict(self._held)))

    # -- rates -----------------------------------------------------------------------

    async def spend(
        self, user_id: str, budget: Rate, amount: float = 1.0, *, debt: bool = False
    ) -> None:
        """Spend `amount` of `budget`, or raise `rate_limited` (with the wait). With `debt`
        the amount is spent whatever the balance (for what was already done, such as bytes
        sent), and `rate_limited` says the balance is now below zero."""
        key = (user_id, budget.name)
        now = self._clock()
        refused_until = self._refused.get(key, 0.0)
        if now < refused_until and not debt:
            raise rate_limited(budget, refused_until - now)
        wait: float = await self._pool.fetchval(
            _SPEND, user_id, budget.name, amount, budget.rate, budget.burst, debt
        )
        if wait > 0:
            self._refuse(key, wait)
            raise rate_limited(budget, wait)
        self._refused.pop(key, None)

    async def check(self, user_id: str, budget: Rate) -> None:
        """`rate_limited` if the balance is below zero (spent into debt), else nothing."""
        await self.spend(user_id, budget, 0.0)
