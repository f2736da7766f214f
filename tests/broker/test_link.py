"""Choosing a link: the URL's scheme picks the broker; a mistake is one clear error."""

from __future__ import annotations

import sys

import pytest

from flowmaestro.broker import BrokerError, open_link


def test_the_scheme_picks_the_broker() -> None:
    assert open_link("nats://127.0.0.1:4222", "c").name == "nats"
    assert open_link("redis://127.0.0.1:6379/0", "c").name == "redis"
    with pytest.raises(BrokerError, match="unsupported broker URL scheme 'amqp'"):
        open_link("amqp://127.0.0.1:5672", "c")


def test_a_missing_client_library_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "flowmaestro.broker.nats_link", raising=False)
    monkeypatch.setitem(sys.modules, "nats.aio.client", None)  # as if not installed
    with pytest.raises(BrokerError, match=r"flowmaestro-realtime\[broker\]"):
        open_link("nats://127.0.0.1:4222", "c")
