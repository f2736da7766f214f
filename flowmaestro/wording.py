"""Counts in words, for what the CLI prints."""

from __future__ import annotations


def plural(count: int, one: str, many: str | None = None) -> str:
    """`1 chunk`, `2 chunks`, `0 chunks` (`many` for irregular plurals)."""
    return f"{count} {one if count == 1 else (many or one + 's')}"
