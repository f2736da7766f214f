"""Replays charged to their user: at most `user_max_replays` at once, and the bytes of every
page sent counted against `user_replay_bytes_per_minute` (sockets and SSE streams alike).

A page is charged once read (its size is known then); the replay that takes a user's balance
below zero ends after that page with `rate_limited`, so a user overdraws by one page at most.
That costs one small write per page (a page is a read of up to `replay_page` rows anyway),
and nothing per live event.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Protocol

from flowmaestro.gateway.errors import RateLimitedError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from flowmaestro.events.outbox import ReadResult
    from flowmaestro.gateway.budgets import Budgets, Held, UserLimits


class ReplaySource(Protocol):
    """Where a replay reads its pages from."""

    async def replay(
        self, position: int, channel: str | Sequence[str], limit: int
    ) -> ReadResult: ...


class ReplayBudget:
    def __init__(self, reader: ReplaySource, budgets: Budgets, limits: UserLimits) -> None:
        self._reader = reader
        self._budgets = budgets
        self._limits = limits

    async def take(self, user_id: str) -> Held:
        """A replay slot of `user_id` (`quota_exceeded` at the most at once), refused
        `rate_limited` while the user's replayed bytes are overdrawn."""
        await self._budgets.check(user_id, self._limits.replayed_bytes)
        return await self._budgets.take(user_id, self._limits.replays)

    async def page(
        self, user_id: str, position: int, channel: str | Sequence[str], limit: int
    ) -> ReadResult:
        """One page read on its own (HTTP catch-up), charged like a replay's."""
        await self._budgets.check(user_id, self._limits.replayed_bytes)
        return await self.pages(user_id).replay(position, channel, limit)

    @contextlib.asynccontextmanager
    async def replaying(self, user_id: str) -> AsyncIterator[UserReplay]:
        held = await self.take(user_id)
        try:
            yield self.pages(user_id)
        finally:
            held.release()

    def pages(self, user_id: str) -> UserReplay:
        """The pages of one replay of `user_id` (hold a slot meanwhile)."""
        return UserReplay(self._reader, self._budgets, self._limits, user_id)


class UserReplay:
    """One replay's pages, each charged to its user once read."""

    def __init__(
        self, reader: ReplaySource, budgets: Budgets, limits: UserLimits, user_id: str
    ) -> None:
        self._reader = reader
        self._budgets = budgets
        self._limits = limits
        self._user_id = user_id
        self._overdrawn: RateLimitedError | None = None

    async def replay(self, position: int, channel: str | Sequence[str], limit: int) -> ReadResult:
        if self._overdrawn is not None:
            raise self._overdrawn
        page = await self._reader.replay(position, channel, limit)
        size = sum(len(e.json) for e in page.events)
        if size:
            try:
                await self._budgets.spend(
                    self._user_id, self._limits.replayed_bytes, size, debt=True
                )
            except RateLimitedError as exc:
                self._overdrawn = exc  # this page was paid for; the next is refused
        return page
