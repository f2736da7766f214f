"""Chunking: bounded size, overlap, word boundaries, and nothing lost."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from activities.kb.chunking import chunk_text
from tests.activities.kb.documents import filler


def test_chunks_are_bounded_and_overlap() -> None:
    text = filler("chunking", 40)
    chunks = chunk_text(text, 200, 50)
    assert len(chunks) > 5
    assert all(len(c) <= 200 for c in chunks)
    for before, after in itertools.pairwise(chunks):
        # The next chunk starts with words the previous one ended with.
        assert after.split()[0] in before.split()[-12:]
    assert all(not c.startswith(" ") and not c.endswith(" ") for c in chunks)


def test_short_text_is_one_chunk() -> None:
    assert chunk_text("just this", 100, 10) == ["just this"]


def test_rejects_an_overlap_not_below_the_size() -> None:
    with pytest.raises(ValueError):
        chunk_text("x", 10, 10)


@given(
    words=st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=12), min_size=1, max_size=200),
    size=st.integers(20, 300),
    overlap_share=st.floats(0, 0.5),
)
def test_every_word_lands_in_some_chunk(words: list[str], size: int, overlap_share: float) -> None:
    text = " ".join(words)
    chunks = chunk_text(text, size, int(size * overlap_share))
    assert all(len(c) <= size for c in chunks)
    joined = " ".join(chunks)
    assert all(w in joined for w in words)
