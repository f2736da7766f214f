"""JWT auth: HS256 with a shared secret, or RS256 with a PEM public key, a JWKS file or a
JWKS URL (rotated keys are fetched with no restart, flowmaestro.gateway.jwks).

The algorithm is pinned by configuration, never read from the token, so `alg: none` and
HS/RS key confusion are refused. `exp` and `sub` are required; `aud`/`iss` when configured.
A token may live at most `Limits.token_max_lifetime_seconds` (exp - iat, or exp - now
without `iat`), so a leaked long-lived token is worthless here. `exp` is checked on the
gateway's clock, the one its sockets and streams expire on.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt

from flowmaestro.gateway.errors import AuthError
from flowmaestro.gateway.jwks import KeySet, RemoteKeys, StaticKeys
from flowmaestro.security import storable

if TYPE_CHECKING:
    from flowmaestro.gateway.clock import Clock
    from flowmaestro.gateway.config import GatewayConfig
    from flowmaestro.security.egress import EgressGuard


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    expires_at: float
    """The token's `exp` (seconds since the epoch)."""


def mint_token(
    secret: str,
    user_id: str,
    ttl_seconds: int,
    audience: str | None = None,
    issuer: str | None = None,
) -> str:
    """An HS256 token for `user_id`, valid for `ttl_seconds` (development and tests)."""
    now = int(time.time())
    claims: dict[str, Any] = {"sub": user_id, "iat": now, "exp": now + ttl_seconds}
    if audience is not None:
        claims["aud"] = audience
    if issuer is not None:
        claims["iss"] = issuer
    return jwt.encode(claims, secret, algorithm="HS256")


class TokenVerifier:
    """Verifies tokens with the one configured key and algorithm."""

    def __init__(
        self, config: GatewayConfig, clock: Clock, egress: EgressGuard | None = None
    ) -> None:
        self._clock = clock
        self._max_lifetime = config.limits.token_max_lifetime_seconds
        self._audience = config.jwt_audience
        self._issuer = config.jwt_issuer
        self._jwks: KeySet | None = None
        self._key: Any = None
        if config.jwks_url is not None:
            if egress is None:
                raise ValueError("a JWKS URL is fetched through the egress guard: pass one")
            self._algorithm = "RS256"
            self._jwks = RemoteKeys(
                config.jwks_url,
                egress,
                max_age=config.jwks_max_age,
                min_interval=config.jwks_min_refresh_interval,
                clock=clock.time,
            )
        elif config.jwt_public_key is not None:
            self._algorithm = "RS256"
            text = config.jwt_public_key.read_text()
            if text.lstrip().startswith("{"):
                self._jwks = StaticKeys(json.loads(text))
            else:
                self._key = text
        elif config.jwt_secret:
            self._algorithm = "HS256"
            self._key = config.jwt_secret
        else:
            raise ValueError("configure a JWT secret or a public key")

    async def verify(self, token: object) -> Principal:
        """The token's subject, or AuthError saying why it was refused."""
        if not isinstance(token, str) or not token:
            raise AuthError("a token is required (auth.token or ?token=)")
        try:
            key = self._key
            if self._jwks is not None:
                key = await self._jwks.key(jwt.get_unverified_header(token).get("kid"))
            claims = jwt.decode(
                token,
                key,
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                # exp on our clock, below (PyJWT reads the machine's).
                options={"require": ["exp", "sub"], "verify_exp": False},
            )
            now = self._clock.time()
            try:
                expiry = int(claims["exp"])
            except (TypeError, ValueError):
                raise jwt.DecodeError("Expiration Time claim (exp) must be an integer.") from None
            if expiry <= now:
                raise jwt.ExpiredSignatureError("Signature has expired")
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from exc
        sub = claims["sub"]
        if not isinstance(sub, str) or not sub or len(sub) > 200 or not storable(sub):
            raise AuthError("invalid token: sub must be 1-200 characters of storable text")
        exp = float(claims["exp"])
        issued = claims.get("iat")
        start = float(issued) if isinstance(issued, int | float) else now
        if exp - start > self._max_lifetime:
            raise AuthError(
                f"token lifetime exceeds the maximum of {self._max_lifetime} s; ask for a"
                " shorter-lived token"
            )
        return Principal(sub, exp)
