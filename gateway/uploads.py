"""A multipart upload read as a stream: the byte limit holds while reading (413 `too_large`
as soon as it is passed), and the file part is spooled to a temporary file (at most 1 MiB
of it in memory), so the gateway never holds a large body."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from flowmaestro.flows.kb.store import Content
from flowmaestro.gateway.errors import GatewayError
from flowmaestro.security import storable

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator

    from fastapi import Request

# Room for the multipart boundaries and part headers around the file itself.
_FRAMING_BYTES = 64 * 1024
_CHUNK_BYTES = 256 * 1024
_MAX_FILE_NAME = 255

# For OpenAPI: the route reads its body itself, so FastAPI cannot describe it.
OPENAPI_FILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


def too_large(max_bytes: int) -> GatewayError:
    return GatewayError(
        "too_large",
        f"uploads are limited to {max_bytes} bytes",
        {"limit": "max_document_bytes", "maximum": max_bytes},
    )


@contextlib.asynccontextmanager
async def received_file(request: Request, max_bytes: int) -> AsyncIterator[tuple[str, Content]]:
    """The `file` part of a multipart body of at most `max_bytes`: (its name, its bytes).

    The temporary file is removed when the block ends."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise GatewayError("bad_request", "send multipart/form-data with a `file` part")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + _FRAMING_BYTES:
        raise too_large(max_bytes)
    parser = MultiPartParser(
        request.headers,
        _bounded(request.stream(), max_bytes + _FRAMING_BYTES, max_bytes),
        max_files=1,
        max_fields=8,
        max_part_size=_FRAMING_BYTES,
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise GatewayError("bad_request", f"invalid multipart body: {exc.message}") from None
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise GatewayError("bad_request", "the multipart body has no `file` part")
        size = file.size or 0
        if size > max_bytes:
            raise too_large(max_bytes)
        name = file.filename or "upload"
        if len(name) > _MAX_FILE_NAME or not storable(name):
            raise GatewayError(
                "bad_request",
                f"a file name has at most {_MAX_FILE_NAME} characters and no NUL",
            )
        yield name, Content(size, _chunks(file))
    finally:
        await form.close()


async def _bounded(
    stream: AsyncIterator[bytes], max_body: int, max_bytes: int
) -> AsyncGenerator[bytes]:
    read = 0
    async for chunk in stream:
        read += len(chunk)
        if read > max_body:
            raise too_large(max_bytes)
        yield chunk


async def _chunks(file: UploadFile) -> AsyncIterator[bytes]:
    await file.seek(0)
    while chunk := await file.read(_CHUNK_BYTES):
        yield chunk
