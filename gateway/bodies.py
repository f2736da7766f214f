"""Request bodies are bounded before the app reads them: FastAPI would read a JSON body of
any size into memory. Uploads are exempt; they are streamed and bounded by their own limit
(gateway/uploads.py)."""

from __future__ import annotations

from typing import Any

_UPLOAD_PREFIX = "/api/knowledge-bases/"
_UPLOAD_SUFFIX = "/documents"


def is_upload(scope: dict[str, Any]) -> bool:
    path: str = scope["path"]
    return path.startswith(_UPLOAD_PREFIX) and path.endswith(_UPLOAD_SUFFIX)


async def bounded_receive(receive: Any, scope: dict[str, Any], limit: int) -> Any | None:
    """A `receive` that replays the body, read whole first and at most `limit` bytes (None
    when it is larger). A declared Content-Length over the limit is refused unread."""
    declared = dict(scope["headers"]).get(b"content-length", b"")
    if declared.isdigit() and int(declared) > limit:
        return None
    messages: list[dict[str, Any]] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break  # the client went away: the app sees that
        size += len(message.get("body", b""))
        if size > limit:
            return None
        if not message.get("more_body"):
            break

    async def replay() -> Any:
        return messages.pop(0) if messages else await receive()

    return replay
