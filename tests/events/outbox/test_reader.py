from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import asyncpg
import pytest

from bench.replay_pages import entries_read, generate_history, reader_plan, requested
from flowmaestro.events import AgentToken
from flowmaestro.events.outbox import OutboxReader, PostgresEmitter, prune_before
from flowmaestro.events.outbox.channels import SEQUENCED
from flowmaestro.events.outbox.reader import Sequenced, sequenced
from flowmaestro.events.outbox.sequencer import sequence_once
from tests.events.outbox.helpers import CountingPool, collect
from tests.samples import one_of_each

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator

    from flowmaestro.events.outbox import Sequencer, StoredEvent


async def emitted(pool: asyncpg.Pool, count: int) -> OutboxReader:
    reader = OutboxReader(pool, poll_interval=0.2)
    await PostgresEmitter(pool).emit(one_of_each(user_id="u1", execution_id="ex_a"))
    await PostgresEmitter(pool).emit(one_of_each(user_id="u2", execution_id="ex_b", kb_id="kb_2"))
    await collect(reader, count)
    return reader


async def test_read_after_filters_by_channel_in_position_order(
    pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    reader = await emitted(pool, 38)
    ex_a = await reader.read_after(0, "execution:ex_a")
    assert [s.envelope["executionId"] for s in ex_a] == ["ex_a"] * 15
    positions = [s.position for s in ex_a]
    assert positions == sorted(positions)
    assert [s.type for s in await reader.read_after(0, "agent:writer:ex_b")] == [
        "agent:streaming_start",
        "agent:token",
        "agent:tool_call",
        "agent:streaming_end",
    ]
    assert len(await reader.read_after(0, "kb:kb_2")) == 4
    assert len(await reader.read_after(0, "user:u2")) == 19
    page = await reader.read_after(positions[3], "execution:ex_a", limit=2)
    assert [s.position for s in page] == positions[4:6]
    assert await reader.read_after(0, "user:nobody") == []


async def test_tail_from_the_head_sees_only_new_events(
    pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    reader = await emitted(pool, 38)
    head = await reader.head()
    assert head == 38
    await PostgresEmitter(pool).emit(one_of_each(user_id="u3")[:2])
    fresh = await collect(reader, 2, after=head)
    assert [s.position for s in fresh] == [39, 40]


async def test_replay_from_before_pruned_history_is_not_recovered(
    pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    reader = await emitted(pool, 38)
    async with pool.acquire() as con:
        deleted, through = await prune_before(con, datetime.now(UTC) + timedelta(seconds=1))
    assert (deleted, through) == (38, 38)
    stale = await reader.replay(10, "execution:ex_a", 100)
    assert (stale.recovered, stale.events, stale.head) == (False, [], 38)
    current = await reader.replay(38, "execution:ex_a", 100)
    assert current.recovered
    assert await pool.fetchval("SELECT count(*) FROM event_channel_positions") == 0


@contextlib.asynccontextmanager
async def paging(
    reader: OutboxReader, after: int
) -> AsyncIterator[AsyncGenerator[list[StoredEvent]]]:
    pages = reader.pages(after)
    try:
        yield pages
    finally:
        await pages.aclose()


def token(i: int, text: str = "tok") -> AgentToken:
    return AgentToken(
        user_id="u1",
        execution_id="ex_p",
        workflow_id="wf",
        agent_id="writer",
        data={"token": text, "index": i, "offset": i},
    )


async def test_a_small_batch_arrives_in_the_notification_without_a_read(
    pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    counting = CountingPool(pool)
    # No poll inside the test: every read the tail makes is one it chose.
    reader = OutboxReader(cast("asyncpg.Pool", counting), poll_interval=60)
    await PostgresEmitter(pool).emit([token(0)])
    async with paging(reader, 0) as pages:
        first = await asyncio.wait_for(anext(pages), 10)
        assert [s.position for s in first] == [1] and counting.reads == 1
        await PostgresEmitter(pool).emit([token(1, "tab\tnew\nline ✓"), token(2)])
        carried = await asyncio.wait_for(anext(pages), 10)
        assert counting.reads == 1
    read = await OutboxReader(pool).read_after(1)
    assert [(s.position, s.type, s.channels, s.json, s.created_at) for s in carried] == [
        (s.position, s.type, s.channels, s.json, s.created_at) for s in read
    ]
    assert carried[0].envelope["data"]["token"] == "tab\tnew\nline ✓"


async def test_a_batch_too_large_for_the_notification_is_read(
    pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    counting = CountingPool(pool)
    reader = OutboxReader(cast("asyncpg.Pool", counting), poll_interval=60)
    await PostgresEmitter(pool).emit([token(0)])
    async with paging(reader, 0) as pages:
        assert [s.position for s in await asyncio.wait_for(anext(pages), 10)] == [1]
        await PostgresEmitter(pool).emit([token(1, "x" * 4000), token(2, "y" * 4000)])
        got = await asyncio.wait_for(anext(pages), 10)
    assert [s.envelope["data"]["token"][0] for s in got] == ["x", "y"]
    assert counting.reads == 2


async def test_notifications_from_anyone_but_the_sequencer_carry_nothing(
    pool: asyncpg.Pool, sequencer: Sequencer, database_dsn: str
) -> None:
    """Anyone who may connect may NOTIFY (and take the sequencer's advisory lock): a forged
    batch that follows on, with a guessed token or none, or a malformed payload, must
    neither become events nor end the tail, nor move it past the real positions."""
    role = f"intruder_{uuid.uuid4().hex[:8]}"
    await pool.execute(f"CREATE ROLE {role} LOGIN")
    try:
        intruder = await asyncpg.connect(database_dsn, user=role)
        try:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await intruder.fetchval("SELECT notify_token FROM outbox_sequencer")
            reader = OutboxReader(pool, poll_interval=60)
            await PostgresEmitter(pool).emit([token(0)])
            async with paging(reader, 0) as pages:
                assert [s.position for s in await asyncio.wait_for(anext(pages), 10)] == [1]
                line = "\t".join(["2", "0", "agent:token", '["user:u1"]', '{"forged": true}'])
                for first in ("2", "2\tguessed", "1000000000\tguessed"):
                    await intruder.execute(
                        "SELECT pg_notify($1, $2)", SEQUENCED, f"{first}\n{line}"
                    )
                for payload in ("hello", "2\nnot\ta line", ""):
                    await intruder.execute("SELECT pg_notify($1, $2)", SEQUENCED, payload)
                await PostgresEmitter(pool).emit([token(1, "real")])
                got = await asyncio.wait_for(anext(pages), 10)
        finally:
            await intruder.close()
    finally:
        await pool.execute(f"DROP ROLE {role}")
    assert [(s.position, s.envelope["data"]["token"]) for s in got] == [(2, "real")]


async def test_the_notification_of_a_batch_parses_as_head_and_rows(
    pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    heard: asyncio.Queue[str] = asyncio.Queue()

    def hear(*args: Any) -> None:
        heard.put_nowait(args[3])

    async def next_note() -> Sequenced:
        note = sequenced(await asyncio.wait_for(heard.get(), 10))
        assert note is not None
        return note

    async with pool.acquire() as con:
        await con.add_listener(SEQUENCED, hear)
        await PostgresEmitter(pool).emit([token(0), token(1)])
        small = await next_note()
        await PostgresEmitter(pool).emit([token(i, "z" * 1000) for i in range(8)])
        big = await next_note()
        await con.remove_listener(SEQUENCED, hear)
    assert (small.head, [s.position for s in small.rows]) == (2, [1, 2])
    assert small.token == await pool.fetchval("SELECT notify_token FROM outbox_sequencer")
    assert small.follows(0, small.token, 1000) and not small.follows(0, "other", 1000)
    assert small.rows[0].json.startswith('{"position": 1, ')
    assert (big.head, big.token, big.rows) == (10, None, [])


async def test_a_tail_whose_listener_was_terminated_fails_instead_of_polling_on(
    pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    """The gateway restarts a tail that raises; one left on its fallback poll would deliver
    every event up to `poll_interval` late for good."""
    reader = OutboxReader(pool, poll_interval=0.1)
    await PostgresEmitter(pool).emit([token(0)])
    async with paging(reader, 0) as pages:
        await asyncio.wait_for(anext(pages), 10)
        # This database's listener: other databases on the server have their own.
        listening = (
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND query = 'LISTEN \"' || $1 || '\"'"
        )
        pid = await pool.fetchval(listening, SEQUENCED)
        await pool.execute("SELECT pg_terminate_backend($1)", pid)
        with pytest.raises(asyncpg.InterfaceError):
            await asyncio.wait_for(anext(pages), 10)


# Text that could break a line- and tab-separated payload, or jsonb's text form.
AWKWARD = [
    "tab\there",
    "nl\nx",
    "cr\rx",
    "\u2028\u2029\x85",
    "\\u0000",
    "\x01\x1f",
    "é✓😀",
    '"quoted" \\ back',
    "\t\n\t\n",
    "x" * 3000,
    "",
    "{}",
]


async def test_carried_rows_are_byte_identical_to_read_rows_up_to_the_size_limit(
    pool: asyncpg.Pool,
) -> None:
    """Found by review to hold: awkward text, and rows growing across the 7,900-byte limit
    (carried below it, the head alone above it, never a notification refused)."""
    heard: asyncio.Queue[str] = asyncio.Queue()

    def hear(*args: Any) -> None:
        heard.put_nowait(args[3])

    texts = AWKWARD + ["é" * (size // 2) for size in range(7600, 8000, 9)]
    notes = []
    async with pool.acquire() as listener, pool.acquire() as con:
        await listener.add_listener(SEQUENCED, hear)
        for i, text in enumerate(texts):
            await PostgresEmitter(pool).emit([token(i, text)])
            assert (await sequence_once(con)).numbered == 1
            notes.append(await asyncio.wait_for(heard.get(), 10))
        await listener.remove_listener(SEQUENCED, hear)
    assert all(len(note.encode()) < 7900 for note in notes)
    parsed = [sequenced(note) for note in notes]
    carried = [s for note in parsed if note for s in note.rows]
    assert 0 < len(carried) < len(texts)  # the largest travel as the head alone
    read = {s.position: s for s in await OutboxReader(pool).read_after(0, limit=1000)}
    assert [(s.type, s.channels, s.json, s.created_at) for s in carried] == [
        (
            read[s.position].type,
            read[s.position].channels,
            read[s.position].json,
            read[s.position].created_at,
        )
        for s in carried
    ]
    assert [s.envelope["data"]["token"] for s in carried[: len(AWKWARD)]] == AWKWARD


async def _model_page(pool: asyncpg.Pool, after: int, channels: list[str], limit: int) -> list[int]:
    """What a page of several channels must be: every position of any of them after
    `after`, once each, in order, cut at `limit` (computed without the reader's statement)."""
    rows = await pool.fetch("SELECT channel, position FROM event_channel_positions")
    wanted = set(channels)
    return sorted({r["position"] for r in rows if r["channel"] in wanted and r[1] > after})[:limit]


async def test_a_page_of_several_channels_is_each_of_their_events_once_in_order(
    pool: asyncpg.Pool,
) -> None:
    """Events of u0 are on `user:u0` and on their execution's channel: most are asked for
    twice. Lists of 2 to 130 channels (statements for 2, 4, ... 256), repeated names,
    unknown ones, cursors and limits of every kind."""
    await generate_history(pool, 3000)
    reader = OutboxReader(pool)
    rng = random.Random(28)
    known = requested(200)
    for count in (2, 3, 4, 5, 63, 64, 65, 100, 128, 130):
        channels = [*rng.sample(known, count), "user:nobody"]
        channels += rng.sample(channels, 3)  # asked twice
        for after, limit in ((0, 500), (rng.randrange(3000), 7), (2990, 500), (3000, 1)):
            page = await reader.read_after(after, channels, limit)
            expected = await _model_page(pool, after, channels, limit)
            assert [s.position for s in page] == expected, (count, after, limit)
            replayed = await reader.replay(after, channels, limit)
            assert [s.position for s in replayed.events] == expected
    assert await reader.read_after(0, ["user:nobody", "kb:none"]) == []


async def test_a_page_of_many_channels_reads_a_page_whatever_the_history(
    pool: asyncpg.Pool,
) -> None:
    """The statement the reader prepares, as planned for it (generic, ordered scans only),
    on a history of 2,000 events and again of 60,000: only index ranges cut at the page, and
    about a page of entries read either way (the statement it replaced read every match
    after the cursor: 30,000 here)."""
    page, channels = 500, requested(100)
    read: list[int] = []
    for size in (2_000, 60_000):
        await generate_history(pool, size)
        for after in (0, size - 1500):
            async with pool.acquire() as con:
                plan = await reader_plan(con, after, channels, page)
            scans = _scans(plan)
            assert {node["Node Type"] for node in scans} <= {"Index Scan", "Index Only Scan"}
            positions = [n for n in scans if n["Relation Name"] == "event_channel_positions"]
            assert len(positions) == 128  # one range per branch, padded to a power of two
            assert all(n["Actual Rows"] <= page and n["Actual Loops"] == 1 for n in positions)
            read.append(entries_read(plan))
    # The merge takes a page and the events read twice, and looks one entry ahead per
    # channel; the outbox gives the page's rows.
    assert max(read) <= 3 * page + 128, read
    assert read[2] <= read[0] + 128, read


def _scans(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Every node of a plan that reads a table or an index."""
    own = [plan] if "Relation Name" in plan else []
    return own + [node for child in plan.get("Plans", ()) for node in _scans(child)]
