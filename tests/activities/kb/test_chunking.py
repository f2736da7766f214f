"""Chunking: bounded size, overlap, word boundaries, and nothing lost."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowmaestro.activities.kb.chunking import chunk_text
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
    words=st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=40), min_size=1, max_size=200),
    separators=st.lists(st.sampled_from([" ", "  ", "\n", "\n\n", ". ", "\t"]), min_size=1),
    # Sizes near the words' lengths: a word exactly a chunk long is where cuts hide.
    size=st.integers(1, 60),
    overlap_share=st.floats(0, 0.99),
)
@settings(max_examples=400)
def test_no_word_is_cut_unless_longer_than_a_chunk(
    words: list[str], separators: list[str], size: int, overlap_share: float
) -> None:
    text = "".join(w + separators[i % len(separators)] for i, w in enumerate(words))
    chunks = chunk_text(text, size, min(int(size * overlap_share), size - 1))
    assert all(0 < len(c) <= size and c == c.strip() for c in chunks)
    pieces = {piece.strip(".") for c in chunks for piece in c.split()} - {""}
    whole = {w for w in words if len(w) <= size}
    # Every word that fits a chunk is whole in some chunk ...
    assert whole <= pieces
    # ... and any other piece is a cut of a word that does not.
    long = [w for w in words if len(w) > size]
    assert all(any(p in w for w in long) for p in pieces - whole)


def test_a_word_is_not_cut_at_the_chunk_end() -> None:
    assert chunk_text("a a aaaa aaaaaaaaaaaa", 20, 0) == ["a a aaaa", "aaaaaaaaaaaa"]


@pytest.mark.parametrize("overlap", [0, 5])
def test_a_word_of_exactly_a_chunk_after_a_chunk_ending_at_a_space(overlap: int) -> None:
    assert chunk_text("x" * 20 + " " + "y" * 20, 20, overlap) == ["x" * 20, "y" * 20]


def test_leading_space_is_skipped() -> None:
    assert chunk_text("   ab cd", 5, 0) == ["ab cd"]


def test_a_word_longer_than_a_chunk_is_cut() -> None:
    assert chunk_text("ab abcdefghij", 5, 0) == ["ab", "abcde", "fghij"]
