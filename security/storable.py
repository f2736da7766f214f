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


def unstorable_path(value: object) -> str | None:
    """A JSON pointer to the first string (or key) of a JSON value Postgres cannot store, or
    None. Iterative, so a deeply nested value cannot exhaust the stack."""
    pending: list[tuple[str, object]] = [("", value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            if not storable(item):
                return path or "/"
        elif isinstance(item, dict):
            for key, child in item.items():
                where = f"{path}/{key}"
                if isinstance(key, str) and not storable(key):
                    return where
                pending.append((where, child))
        elif isinstance(item, list | tuple):
            pending.extend((f"{path}/{i}", child) for i, child in enumerate(item))
    return None
