"""Settings: every limit is in `limits`; the gateway's old limit variables still apply."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from flowmaestro.settings import Settings


def test_limits_come_from_nested_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWMAESTRO_LIMITS__TOKEN_MAX_LIFETIME_SECONDS", "600")
    monkeypatch.setenv("FLOWMAESTRO_LIMITS__SOCKET_MESSAGE_BURST", "3")
    limits = Settings().limits
    assert limits.token_max_lifetime_seconds == 600 and limits.socket_message_burst == 3
    assert limits.socket_messages_per_second == 50.0  # the rest keep their defaults


def test_the_old_gateway_variables_still_apply_and_the_new_names_win(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLOWMAESTRO_GATEWAY_RATE_LIMIT", "7")
    monkeypatch.setenv("FLOWMAESTRO_GATEWAY_MAX_QUEUE", "40")
    monkeypatch.setenv("FLOWMAESTRO_GATEWAY_MAX_SUBSCRIPTIONS", "5")
    monkeypatch.setenv("FLOWMAESTRO_GATEWAY_MAX_MESSAGE_BYTES", "1000")
    monkeypatch.setenv("FLOWMAESTRO_KB_MAX_FILE_BYTES", "2048")
    monkeypatch.setenv("FLOWMAESTRO_LIMITS__SOCKET_MAX_QUEUE", "80")
    limits = Settings().limits
    assert limits.socket_messages_per_second == 7.0 and limits.socket_message_burst == 14
    assert limits.socket_max_queue == 80
    assert limits.socket_max_subscriptions == 5
    assert limits.socket_max_message_bytes == 1000
    assert limits.max_document_bytes == 2048


def test_a_broker_url_must_name_a_broker_we_speak(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().broker_url is None  # the default: no broker
    monkeypatch.setenv("FLOWMAESTRO_BROKER_URL", "nats://10.0.0.5:4222")
    url = Settings().broker_url
    assert url is not None and url.get_secret_value() == "nats://10.0.0.5:4222"
    monkeypatch.setenv("FLOWMAESTRO_BROKER_URL", "amqp://10.0.0.5:5672")
    with pytest.raises(ValidationError, match="unsupported broker URL scheme 'amqp'"):
        Settings()
