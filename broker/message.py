"""A sequenced batch, or a set of presence channels that changed, as a broker message,
signed with the outbox's secret.

    head TAB hmac-sha256(token, head LF lines) as hex [LF lines]
    "presence" TAB hmac-sha256(token, "presence" LF channels) as hex LF channels


`lines` are the rows in the NOTIFY payload's format (migration 0021); a message without them
announces the head only (the batch was too large): receivers read it from Postgres. The
token is the state row's `notify_token`, which only a role that may read it knows: anyone
who may publish on the broker can send bytes, but not a batch a gateway believes.
"""

from __future__ import annotations

import hashlib
import hmac

from flowmaestro.events.outbox import Sequenced, parse_lines


def _mac(token: str, head: str, lines: str) -> str:
    return hmac.new(token.encode(), f"{head}\n{lines}".encode(), hashlib.sha256).hexdigest()


def encode(head: int, token: str, lines: str | None) -> bytes:
    text = str(head)
    mac = _mac(token, text, lines or "")
    return f"{text}\t{mac}\n{lines}".encode() if lines else f"{text}\t{mac}".encode()


def decode(data: bytes, token: str) -> Sequenced | None:
    """The batch, its origin checked; None when forged or malformed (never raises)."""
    try:
        text = data.decode()
        first, _, lines = text.partition("\n")
        head, _, mac = first.partition("\t")
        if not hmac.compare_digest(mac.encode(), _mac(token, head, lines).encode()):
            return None
        return Sequenced(int(head), token, parse_lines(lines))
    except ValueError:  # UnicodeDecodeError and orjson's errors are ValueErrors too
        return None


_PRESENCE = "presence"


def encode_channels(token: str, channels: list[str]) -> bytes:
    """A presence signal: these channels' watchers changed (names hold no line break)."""
    text = "\n".join(channels)
    return f"{_PRESENCE}\t{_mac(token, _PRESENCE, text)}\n{text}".encode()


def decode_channels(data: bytes, token: str) -> list[str] | None:
    """The channels of a presence signal, its origin checked; None when forged or malformed
    (never raises)."""
    try:
        first, _, text = data.decode().partition("\n")
    except ValueError:
        return None
    kind, _, mac = first.partition("\t")
    if kind != _PRESENCE or not hmac.compare_digest(
        mac.encode(), _mac(token, _PRESENCE, text).encode()
    ):
        return None
    return text.split("\n") if text else []
