"""A batch's broker message: signed with the outbox's secret, parsed like the NOTIFY payload."""

from __future__ import annotations

import pytest

from flowmaestro.broker import decode, decode_channels, encode, encode_channels

LINE = '7\t1764800000.5\tnode:progress\t["user:u1", "execution:ex_1"]\t{"type": "node:progress"}'


def test_a_batch_round_trips_with_the_right_secret() -> None:
    batch = decode(encode(7, "secret", LINE), "secret")
    assert batch is not None and batch.head == 7 and batch.token == "secret"
    [row] = batch.rows
    assert (row.position, row.type, row.channels) == (
        7,
        "node:progress",
        ("user:u1", "execution:ex_1"),
    )
    assert row.json == '{"position": 7, "type": "node:progress"}'
    assert batch.follows(6, "secret", 1000)


def test_a_head_without_rows_says_read_it() -> None:
    batch = decode(encode(9, "secret", None), "secret")
    assert batch is not None and batch.head == 9 and batch.rows == []
    assert not batch.follows(8, "secret", 1000)


@pytest.mark.parametrize(
    "data",
    [
        encode(7, "another secret", LINE),
        encode(7, "secret", LINE).replace(b"node:progress", b"node:complete"),
        encode(7, "secret", LINE)[:-3],
        encode(7, "secret", "7\tnot a row"),
        encode(7, "secret", '7\t1.0\tt\t"user:u1"\t{}'),  # channels that are not a list
        b"\xff\xfe\x00",
        b"",
        b"7",
        b"7\t" + "é".encode() * 32,  # a signature that is not ASCII
    ],
)
def test_a_forged_or_malformed_message_decodes_to_nothing(data: bytes) -> None:
    assert decode(data, "secret") is None


def test_a_presence_signal_round_trips_with_the_right_secret() -> None:
    channels = ["execution:ex_1", "kb:k"]
    assert decode_channels(encode_channels("secret", channels), "secret") == channels
    assert decode_channels(encode_channels("secret", []), "secret") == []


@pytest.mark.parametrize(
    "data",
    [
        encode_channels("another secret", ["execution:ex_1"]),
        encode_channels("secret", ["execution:ex_1"]).replace(b"ex_1", b"ex_2"),
        encode(7, "secret", LINE),  # a batch is not a presence signal
        b"\xff\xfe\x00",
        b"",
        b"presence",
        b"presence\t" + "é".encode() * 32 + b"\nexecution:ex_1",
    ],
)
def test_a_forged_or_malformed_presence_signal_decodes_to_nothing(data: bytes) -> None:
    assert decode_channels(data, "secret") is None
