"""Token coalescing: few events for many tiny chunks, the same text, offsets that rebuild it."""

from __future__ import annotations

import asyncio

import pytest

from flowmaestro.activities.agent.coalescer import Token, TokenCoalescer
from flowmaestro.activities.agent.messages import Message, TextDelta
from flowmaestro.activities.agent.offline import OfflineProvider
from flowmaestro.flows.nodes.agent import ScriptStep


def rebuilt(tokens: list[Token]) -> str:
    text = ""
    for t in sorted(tokens, key=lambda t: t.index):
        assert t.offset == len(text), "each offset counts the characters before its token"
        text += t.text
    return text


async def test_two_thousand_chunks_in_a_second_become_about_twenty_tokens_a_second() -> None:
    text = "".join(chr(ord("a") + i % 26) for i in range(2000))
    written: list[Token] = []

    async def write(tokens: list[Token]) -> None:
        written.extend(tokens)

    provider = OfflineProvider(script=[ScriptStep(say=text)], chunk_chars=1, chunks_per_second=2000)
    loop = asyncio.get_running_loop()
    begun = loop.time()
    pushed = 0
    async with TokenCoalescer(write) as coalescer:
        async for item in provider.stream([Message("user", "go")], []):
            if isinstance(item, TextDelta):
                coalescer.push(item.text)
                pushed += 1
    elapsed = loop.time() - begun
    assert pushed == 2000
    assert rebuilt(written) == text
    assert len(written) <= elapsed / 0.05 + 2, (len(written), elapsed)
    assert len(written) / max(elapsed, 1.0) <= 22


async def test_max_chars_flushes_early_and_splits_a_backlog() -> None:
    writes: list[list[Token]] = []
    writing = asyncio.Event()
    gate = asyncio.Event()

    async def write(tokens: list[Token]) -> None:
        writes.append(tokens)
        writing.set()
        await gate.wait()

    async with TokenCoalescer(write, flush_interval=60, max_chars=10) as coalescer:
        coalescer.push("first")
        await asyncio.wait_for(writing.wait(), 5)
        # While the first write is stuck, 25 characters pile up: one write of three tokens.
        for _ in range(5):
            coalescer.push("abcde")
        gate.set()
    assert [[t.text for t in w] for w in writes] == [
        ["first"],
        ["abcdeabcde", "abcdeabcde", "abcde"],
    ]
    assert rebuilt([t for w in writes for t in w]) == "first" + "abcde" * 5


async def test_without_coalescing_every_chunk_is_a_token() -> None:
    written: list[Token] = []

    async def write(tokens: list[Token]) -> None:
        written.extend(tokens)

    async with TokenCoalescer(write, coalesce=False) as coalescer:
        for piece in ("a", "bc", "def"):
            coalescer.push(piece)
    assert [t.text for t in written] == ["a", "bc", "def"]
    assert [t.offset for t in written] == [0, 1, 3]


async def test_flush_writes_the_buffer_now_and_goes_on() -> None:
    written: list[Token] = []

    async def write(tokens: list[Token]) -> None:
        written.extend(tokens)

    async with TokenCoalescer(write, flush_interval=60) as coalescer:
        coalescer.push("one")
        coalescer.push("two")
        await coalescer.flush()
        assert rebuilt(written) == "onetwo"
        coalescer.push("three")
    assert rebuilt(written) == "onetwothree"


async def test_a_failed_write_surfaces() -> None:
    async def write(tokens: list[Token]) -> None:
        raise OSError("database gone")

    with pytest.raises(OSError, match="database gone"):
        async with TokenCoalescer(write) as coalescer:
            coalescer.push("x")
