"""Where `watch` gets its tokens: a fixed one, or, when this machine holds the signing
secret (FLOWMAESTRO_JWT_SECRET, or the running `flowmaestro dev`'s), a callback that mints
a fresh one for the same user whenever the client asks (on reconnects, and when the gateway
warns that the current token is expiring)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt

from flowmaestro.gateway import mint_token

if TYPE_CHECKING:
    from flowmaestro.client.client import TokenSource
    from flowmaestro.settings import Settings

# Minted tokens live an hour at most: the client refreshes them long before they end.
_MINTED_TTL = 3600


def token_source(settings: Settings, running: dict[str, Any], token: str) -> TokenSource:
    secret = _signing_secret(settings, running)
    subject = _subject(token)
    if secret is None or subject is None:
        return token
    ttl = min(_MINTED_TTL, settings.limits.token_max_lifetime_seconds)

    def fresh() -> str:
        return mint_token(
            secret, subject, ttl, audience=settings.jwt_audience, issuer=settings.jwt_issuer
        )

    return fresh


def _signing_secret(settings: Settings, running: dict[str, Any]) -> str | None:
    if settings.jwt_public_key is not None:
        return None  # RS256: tokens come from an identity provider, never from here
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    data_dir = running.get("dataDir")
    if not isinstance(data_dir, str):
        return None
    try:
        return (Path(data_dir) / "jwt-secret").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _subject(token: str) -> str | None:
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    sub = claims.get("sub")
    return sub if isinstance(sub, str) and sub else None
