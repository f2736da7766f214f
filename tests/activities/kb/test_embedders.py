"""Embedders: the offline one (deterministic, similar texts close) and the OpenAI-compatible
one against a local server (ordering by index, unit length, a 503 retried)."""

from __future__ import annotations

import math

import httpx
import pytest

from flowmaestro.activities.kb.embedder import Embedders
from flowmaestro.activities.kb.hashing_embedder import HashingEmbedder
from flowmaestro.flows.kb.errors import KbError
from tests.http_server import scripted_server


def dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def test_offline_vectors_are_unit_deterministic_and_meaningful() -> None:
    embedder = HashingEmbedder(384)
    refund, refunds, shipping = await embedder.embed(
        [
            "the refund window is thirty days",
            "refunds: a thirty day window",
            "orders ship in two days",
        ]
    )
    assert len(refund) == 384 and math.isclose(dot(refund, refund), 1.0)
    assert refund == (await HashingEmbedder(384).embed(["the refund window is thirty days"]))[0]
    assert dot(refund, refunds) > dot(refund, shipping)


async def test_openai_compatible_embeddings_after_a_503() -> None:
    answer: dict[str, object] = {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 1, "embedding": [0.0, 3.0, 4.0]},
            {"object": "embedding", "index": 0, "embedding": [2.0, 0.0, 0.0]},
        ],
    }
    async with (
        scripted_server([(503, {"error": "busy"}), (200, answer)]) as (url, seen),
        httpx.AsyncClient() as http,
    ):
        base_url = url.removesuffix("/data") + "/v1"
        embedder = Embedders(http, base_url=base_url).get("text-embedding-test")
        vectors = await embedder.embed(["first", "second"])
    assert seen == ["/v1/embeddings", "/v1/embeddings"]
    assert vectors == [[1.0, 0.0, 0.0], [0.0, 0.6, 0.8]]


async def test_a_remote_model_without_an_endpoint_is_a_clear_error() -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(KbError) as caught:
            Embedders(http).get("text-embedding-test")
    assert (caught.value.step, caught.value.type) == ("embedding", "embedder_unavailable")
