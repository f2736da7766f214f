"""JWT auth: HS256 with a shared secret, or RS256 with a PEM public key, a JWKS file or a
JWKS URL (rotated keys are fetched with no restart, flowmaestro.gateway.jwks).

The algorithm is pinned by configuration, never read from the token, so `alg: none` and
HS/RS key confusion are refused. `exp` and `sub` are required; `aud`/`iss` when configured.
A token may live at most `Limits.token_max_lifetime_seconds` (exp - iat, or exp - now
without `iat`), so a leaked long-lived token is worthless here. `exp` is checked on the
gateway's clock, the one its sockets and streams expire on.

Identity (docs/teams.md): `sub` is the user, the workspace claim (a setting, default `org`)
the tenant, the groups claim (default `groups`) the user's groups in it. Claims are
untrusted input like any other: a workspace is one short storable name without `:` (it is
part of channel names), the groups are at most `Limits.token_max_groups` such names, none
with a wildcard character, so no name can ever match more than itself.
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


MAX_NAME_CHARS = 200
"""A user, workspace or group name is at most this long."""
# Characters that are patterns somewhere (glob, SQL LIKE, regex classes): a group or
# workspace named with one is refused rather than trusted to be matched literally everywhere.
_WILDCARDS = frozenset("*?%[]")


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    expires_at: float
    """The token's `exp` (seconds since the epoch)."""
    workspace: str | None = None
    """The workspace claim; None: the user's personal workspace of one."""
    groups: frozenset[str] = frozenset()
    """The user's groups within `workspace`."""


def mint_token(
    secret: str,
    user_id: str,
    ttl_seconds: int,
    audience: str | None = None,
    issuer: str | None = None,
    *,
    workspace: str | None = None,
    groups: list[str] | None = None,
    workspace_claim: str = "org",
    groups_claim: str = "groups",
) -> str:
    """An HS256 token for `user_id`, valid for `ttl_seconds` (development and tests), with a
    workspace and groups under the given claim names (docs/teams.md)."""
    now = int(time.time())
    claims: dict[str, Any] = {"sub": user_id, "iat": now, "exp": now + ttl_seconds}
    if workspace is not None:
        claims[workspace_claim] = workspace
    if groups is not None:
        claims[groups_claim] = groups
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
        self._max_groups = config.limits.token_max_groups
        self._max_bytes = config.limits.token_max_bytes
        self._workspace_claim = config.jwt_workspace_claim
        self._groups_claim = config.jwt_groups_claim
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
        if len(token) > self._max_bytes:
            raise AuthError(f"invalid token: longer than {self._max_bytes} characters")
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
        if not isinstance(sub, str) or not sub or len(sub) > MAX_NAME_CHARS or not storable(sub):
            raise AuthError("invalid token: sub must be 1-200 characters of storable text")
        exp = float(claims["exp"])
        issued = claims.get("iat")
        start = float(issued) if isinstance(issued, int | float) else now
        if exp - start > self._max_lifetime:
            raise AuthError(
                f"token lifetime exceeds the maximum of {self._max_lifetime} s; ask for a"
                " shorter-lived token"
            )
        return Principal(sub, exp, self._workspace(claims), self._groups(claims))

    def _workspace(self, claims: dict[str, Any]) -> str | None:
        workspace = claims.get(self._workspace_claim)
        if workspace is None:
            return None
        if not isinstance(workspace, str) or not _plain_name(workspace) or ":" in workspace:
            raise AuthError(
                f"invalid token: {self._workspace_claim} must be 1-200 characters of storable "
                "text without ':' or a wildcard"
            )
        return workspace

    def _groups(self, claims: dict[str, Any]) -> frozenset[str]:
        groups = claims.get(self._groups_claim)
        if groups is None:
            return frozenset()
        name = self._groups_claim
        if not isinstance(groups, list):
            raise AuthError(f"invalid token: {name} must be a list of group names")
        if len(groups) > self._max_groups:
            raise AuthError(
                f"invalid token: {name} has {len(groups)} entries, at most {self._max_groups}"
            )
        if not all(isinstance(g, str) and _plain_name(g) for g in groups):
            raise AuthError(
                f"invalid token: each of {name} must be 1-200 characters of storable text "
                "without a wildcard (* ? % [ ])"
            )
        return frozenset(groups)


def _plain_name(name: str) -> bool:
    return (
        0 < len(name) <= MAX_NAME_CHARS
        and storable(name)
        and name.isprintable()
        and _WILDCARDS.isdisjoint(name)
    )
