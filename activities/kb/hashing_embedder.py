"""The offline embedder: hashed words and character trigrams, no model, no download.

Texts sharing words and word fragments get close vectors, which is what keyword-ish search
over a document needs; it is deterministic across processes (blake2b, not `hash()`).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

_WORD = re.compile(r"\w+")


class HashingEmbedder:
    def __init__(self, dimensions: int = 384) -> None:
        if dimensions < 8:
            raise ValueError("dimensions must be at least 8")
        self._dims = dimensions

    @property
    def name(self) -> str:
        return f"hash-{self._dims}"

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        # CPU work: a thread keeps the worker's event loop responsive.
        return await asyncio.to_thread(lambda: [self.vector(t) for t in texts])

    def vector(self, text: str) -> list[float]:
        vector = [0.0] * self._dims
        for word in _WORD.findall(text.lower()):
            # Whole words weigh more than their fragments.
            self._add(vector, "w:" + word, 2.0)
            padded = f" {word} "
            for i in range(len(padded) - 2):
                self._add(vector, padded[i : i + 3], 1.0)
        norm = math.sqrt(sum(x * x for x in vector))
        return [x / norm for x in vector] if norm else vector

    def _add(self, vector: list[float], feature: str, weight: float) -> None:
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        bucket = int.from_bytes(digest[:4], "little") % self._dims
        # A hashed sign keeps colliding features from only ever adding up.
        vector[bucket] += weight if digest[4] & 1 else -weight
