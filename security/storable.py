"""Text PostgreSQL can store: no NUL character (text and jsonb refuse it) and no lone
surrogate (not UTF-8). Checked where untrusted input enters, so it is refused there as
`bad_request` instead of failing later, deep inside a write."""

from __future__ import annotations


def storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
