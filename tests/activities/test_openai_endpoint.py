from __future__ import annotations

import httpx

from flowmaestro.activities.openai_endpoint import OpenAICompatibleEndpoint


def refusal(status: int, retry_after: str | None = None) -> httpx.Response:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return httpx.Response(status, headers=headers)


ENDPOINT = OpenAICompatibleEndpoint("http://llm.local/v1/", "m", max_retries=2, backoff_seconds=1)


def test_url_and_headers() -> None:
    assert ENDPOINT.url("/embeddings") == "http://llm.local/v1/embeddings"
    assert ENDPOINT.headers == {}
    keyed = OpenAICompatibleEndpoint("http://x", "m", api_key="k")
    assert keyed.headers == {"Authorization": "Bearer k"}


def test_unreachable_and_5xx_back_off_exponentially_until_out_of_attempts() -> None:
    assert [ENDPOINT.retry_in(a) for a in range(3)] == [1.0, 2.0, None]
    assert [ENDPOINT.retry_in(a, refusal(503)) for a in range(3)] == [1.0, 2.0, None]


def test_retry_after_wins_and_is_capped() -> None:
    assert ENDPOINT.retry_in(0, refusal(429, "0.25")) == 0.25
    assert ENDPOINT.retry_in(0, refusal(429, "3600")) == 30.0
    assert ENDPOINT.retry_in(1, refusal(429, "a date")) == 2.0


def test_other_refusals_are_final() -> None:
    for status in (400, 401, 404, 422):
        assert ENDPOINT.retry_in(0, refusal(status)) is None
