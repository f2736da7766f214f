"""Values the HTTP API reads from query strings and headers, checked strictly.

A value Postgres cannot take is refused here as 400 `bad_request`, never sent on to fail as a
500 (docs/protocol.md: a value of the wrong type is refused).
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated

from annotated_types import Ge, Le
from pydantic import AfterValidator, BeforeValidator, TypeAdapter

from flowmaestro.events.protocol import MAX_POSITION
from flowmaestro.gateway.errors import GatewayError
from flowmaestro.security import storable


def pack_cursor(stamp: datetime, *ids: str) -> str:
    """A keyset cursor: a time and the ids after it, opaque to clients."""
    raw = "|".join([stamp.isoformat(), *ids]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unpack_cursor(text: str, ids: int) -> tuple[datetime, list[str]]:
    """What `pack_cursor` packed with `ids` ids; bad_request for anything else."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        stamp, *rest = raw.split("|", ids)
        at = in_utc(datetime.fromisoformat(stamp))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise GatewayError("bad_request", "cursor is not one this API gave out") from None
    if len(rest) != ids or not all(part and storable(part) for part in rest):
        raise GatewayError("bad_request", "cursor is not one this API gave out")
    return at, rest


def in_utc(stamp: datetime) -> datetime:
    """`stamp` in UTC, as asyncpg sends it. ValueError when it has no zone or when UTC has no
    such time (year 1 at +14:00, year 9999 at -14:00: Python's datetime ends there)."""
    if stamp.tzinfo is None:
        raise ValueError("needs a time zone (e.g. Z)")
    try:
        return stamp.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range once in UTC") from None


def digits_only(value: object) -> object:
    """A number written as text is ASCII digits: pydantic (and int()) would also read
    "1_000", " 5", "+5", "5.0" and other scripts' digits."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("must be written with the digits 0-9 only")
    return value


Instant = Annotated[datetime, AfterValidator(in_utc)]
"""A time: zoned, and one UTC has."""
Digits = BeforeValidator(digits_only)
"""Metadata for an integer query value: digits only."""
Position = Annotated[int, Ge(0), Le(MAX_POSITION), Digits]
"""A position (a Postgres bigint, never negative) written in digits."""
_POSITION: TypeAdapter[int] = TypeAdapter(Position)


def position_of(text: str) -> int:
    """The position `text` writes (a header's value); ValueError when it writes none."""
    return _POSITION.validate_python(text)  # pydantic's ValidationError is a ValueError
