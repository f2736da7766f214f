"""`watch`'s tokens: minted afresh for the same user when this machine holds the signing
secret (so the client can refresh), else the given token as it is."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jwt

from flowmaestro.gateway import mint_token
from flowmaestro.settings import Settings
from flowmaestro.watch.tokens import token_source

if TYPE_CHECKING:
    from pathlib import Path

SECRET = "a-secret-of-enough-length-for-hs256!!"


def test_with_the_operators_secret_fresh_tokens_for_the_same_user() -> None:
    given = mint_token(SECRET, "ada", 60)
    source = token_source(Settings(jwt_secret=SECRET), {}, given)
    assert callable(source)
    fresh = source()
    assert isinstance(fresh, str)
    claims = jwt.decode(fresh, SECRET, algorithms=["HS256"])
    assert claims["sub"] == "ada" and claims["exp"] - claims["iat"] == 3600


def test_with_the_running_devs_secret(tmp_path: Path) -> None:
    (tmp_path / "jwt-secret").write_text(SECRET + "\n")
    given = mint_token(SECRET, "ada", 60)
    source = token_source(
        Settings(jwt_secret=None, jwt_public_key=None), {"dataDir": str(tmp_path)}, given
    )
    assert callable(source)
    fresh = source()
    assert isinstance(fresh, str)
    assert jwt.decode(fresh, SECRET, algorithms=["HS256"])["sub"] == "ada"


def test_without_a_secret_the_token_stays_as_given(tmp_path: Path) -> None:
    given = mint_token(SECRET, "ada", 60)
    assert token_source(Settings(jwt_secret=None, jwt_public_key=None), {}, given) == given
    assert (
        token_source(
            Settings(jwt_secret=None, jwt_public_key=None), {"dataDir": str(tmp_path)}, given
        )
        == given
    )
    key = tmp_path / "key.pem"
    key.write_text("not read")
    rs256 = Settings(jwt_secret=SECRET, jwt_public_key=key)
    assert token_source(rs256, {}, given) == given
    assert token_source(Settings(jwt_secret=SECRET), {}, "not-a-jwt") == "not-a-jwt"
