"""An OpenAI-compatible API endpoint (OpenAI, Ollama, vLLM), and when a failed call to it is
worth another attempt: unreachable, 429 and 5xx are; other refusals are final."""

from __future__ import annotations

from dataclasses import dataclass

import httpx


def retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


@dataclass(frozen=True, slots=True)
class OpenAICompatibleEndpoint:
    base_url: str
    model: str
    api_key: str | None = None
    timeout_seconds: float = 60
    max_retries: int = 3
    backoff_seconds: float = 0.5

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def retry_in(self, attempt: int, refusal: httpx.Response | None = None) -> float | None:
        """Seconds to wait after failed attempt `attempt` (from 0), or None when it is final.

        `refusal` is the error response, None when the server could not be reached; its
        `Retry-After` (capped at 30 s) wins over the exponential backoff.
        """
        if attempt >= self.max_retries:
            return None
        if refusal is not None:
            if not retryable_status(refusal.status_code):
                return None
            retry_after = _retry_after(refusal)
            if retry_after is not None:
                return retry_after
        return self.backoff_seconds * 2.0**attempt


def _retry_after(response: httpx.Response) -> float | None:
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return min(seconds, 30.0)
