"""Splitting text into overlapping chunks that end at word boundaries.

A word is cut only when it alone is longer than a chunk.
"""

from __future__ import annotations

import re

_SPACE = re.compile(r"\s")
_WORD = re.compile(r"\S")


def chunk_text(text: str, size: int, overlap: int) -> list[str]:
    """Chunks of at most `size` characters; each starts about `overlap` characters (rounded
    forward to a word) before the previous one ended, so a phrase cut by a boundary is whole
    in one of them."""
    if size < 1 or not 0 <= overlap < size:
        raise ValueError("need size >= 1 and 0 <= overlap < size")
    chunks: list[str] = []
    start = 0
    # A chunk starts on a word: from a space, its end scan could not see the boundary at
    # `start` and would cut a following word of exactly `size` characters.
    while word := _WORD.search(text, start):
        start = word.start()
        end = _chunk_end(text, start, size)
        chunks.append(text[start:end].rstrip())
        if end >= len(text):
            break
        start = _next_start(text, start, end, overlap)
    return chunks


def _chunk_end(text: str, start: int, size: int) -> int:
    """Where the chunk from `start` ends: a paragraph or sentence break in its back half,
    else its last word boundary, else (one word longer than `size`) at `size`."""
    end = start + size
    if end >= len(text):
        return len(text)
    for mark in ("\n\n", ". "):
        cut = text.rfind(mark, start + size // 2, end)
        if cut != -1:
            return cut + len(mark)
    if text[end].isspace():
        return end
    for index in range(end - 1, start, -1):
        if text[index].isspace():
            return index + 1
    return end


def _next_start(text: str, start: int, end: int, overlap: int) -> int:
    """`overlap` characters before `end`, moved forward to the start of a word."""
    back = max(end - overlap, start + 1)
    if back >= end or text[back - 1].isspace():
        return back
    space = _SPACE.search(text, back, end)
    return space.end() if space else end
