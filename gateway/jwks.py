"""Signing keys for RS256 tokens: a JWKS file read once, or a JWKS URL fetched through the
one egress guard, cached, refreshed when it is older than `max_age`, and fetched again at
once for a token whose `kid` it does not know (an issuer that rotated) at most once every
`min_interval` seconds, so random `kid`s cannot make the gateway hammer the issuer. A
rotation needs no restart."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING, Any, Protocol

import httpx
import jwt

from flowmaestro.gateway.errors import AuthError
from flowmaestro.security.egress import EgressRefusedError

if TYPE_CHECKING:
    from collections.abc import Callable

    from flowmaestro.security.egress import EgressGuard

log = logging.getLogger(__name__)

# A JWKS holds a few keys; anything larger is not one.
MAX_JWKS_BYTES = 256 * 1024
FETCH_TIMEOUT = 10.0


class KeySet(Protocol):
    async def key(self, kid: str | None) -> Any:
        """The verification key for `kid` (None: the only or first key), or AuthError."""
        ...


def _index(jwks: dict[str, Any]) -> dict[str | None, Any]:
    keys = jwt.PyJWKSet.from_dict(jwks).keys
    found: dict[str | None, Any] = {key.key_id: key.key for key in keys}
    if keys:
        found.setdefault(None, keys[0].key)
    return found


def _lookup(keys: dict[str | None, Any], kid: str | None) -> Any:
    key = keys.get(kid)
    if key is None:
        raise AuthError(f"invalid token: no key {kid!r} in the JWKS")
    return key


class StaticKeys:
    """A JWKS read from a file at start-up."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self._keys = _index(jwks)

    async def key(self, kid: str | None) -> Any:
        return _lookup(self._keys, kid)


class RemoteKeys:
    def __init__(
        self,
        url: str,
        egress: EgressGuard,
        *,
        max_age: float = 300.0,
        min_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._egress = egress
        self._max_age = max_age
        self._min_interval = min_interval
        self._clock = clock
        self._keys: dict[str | None, Any] = {}
        self._fetched = -float("inf")
        self._attempted = -float("inf")
        self._lock = asyncio.Lock()
        self.fetches = 0
        """Requests made to the URL (for tests and logs)."""

    async def key(self, kid: str | None) -> Any:
        now = self._clock()
        due = kid not in self._keys or now - self._fetched >= self._max_age
        # The interval holds for every fetch: an issuer that is down is not asked per token.
        if due and now - self._attempted >= self._min_interval:
            await self._refresh(self._attempted)
        return _lookup(self._keys, kid)

    async def _refresh(self, seen: float) -> None:
        """One fetch at a time: callers that waited for another's fetch use its result."""
        async with self._lock:
            if self._attempted != seen:
                return
            self._attempted = self._clock()
            self.fetches += 1
            try:
                self._keys = _index(await self._fetch())
                self._fetched = self._clock()
            except (httpx.HTTPError, OSError, TimeoutError, ValueError, jwt.PyJWTError) as exc:
                # The keys we have stay in use until a fetch succeeds.
                log.warning("cannot fetch the JWKS from %s: %s", self._url, exc)
            except EgressRefusedError as exc:
                log.error("the JWKS URL %s is refused by the egress guard: %s", self._url, exc)

    async def _fetch(self) -> dict[str, Any]:
        async with self._egress.stream("GET", self._url, timeout=FETCH_TIMEOUT) as response:
            response.raise_for_status()
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise ValueError(f"the JWKS is larger than {MAX_JWKS_BYTES} bytes")
        jwks = json.loads(body)
        if not isinstance(jwks, dict):
            raise ValueError("the JWKS is not a JSON object")
        return jwks
