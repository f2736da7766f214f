"""One error shape for every HTTP answer that is not a success.

`{"error": {"code", "message", "details"}}` with the matching status, whether the refusal
comes from our code (`GatewayError`), from request validation, from routing (an unknown path,
a method a path does not take) or from a bug. `/docs` documents the same shape.
"""

from __future__ import annotations

import contextlib
import logging
import math
from typing import TYPE_CHECKING, Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, JsonValue
from starlette.exceptions import HTTPException

from flowmaestro.events.protocol import ErrorBody
from flowmaestro.gateway.errors import GatewayError, RateLimitedError, UnavailableError
from flowmaestro.gateway.unavailable import OUTAGE_TYPES, as_unavailable

if TYPE_CHECKING:
    from collections.abc import Mapping

    from fastapi import FastAPI, Request
    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from flowmaestro.events.protocol import ErrorCode

log = logging.getLogger(__name__)

STATUS: dict[ErrorCode, int] = {
    "bad_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "already_answered": 409,
    "expired": 410,
    "too_large": 413,
    "invalid_input": 422,
    "quota_exceeded": 429,
    "rate_limited": 429,
    "internal": 500,
    "unavailable": 503,
}
_CODE_OF_STATUS: dict[int, ErrorCode] = {status: code for code, status in STATUS.items()}


class ErrorResponse(BaseModel):
    """What every refused HTTP request gets."""

    error: ErrorBody


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorResponse, "description": "Refused: the code says why"},
    "5XX": {
        "model": ErrorResponse,
        "description": "A dependency is away (503 `unavailable`, with Retry-After: retry), "
        "or the gateway failed (500 `internal`)",
    },
}
"""OpenAPI `responses` for routers; it also replaces FastAPI's own 422 validation schema."""


def error_json(
    code: ErrorCode,
    message: str,
    details: JsonValue = None,
    *,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(error=ErrorBody(code=code, message=message, details=details))
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status or STATUS[code], headers=headers
    )


async def _gateway_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    headers = None
    if isinstance(exc, RateLimitedError | UnavailableError):
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    return error_json(exc.code, exc.message, exc.details, headers=headers)


async def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors: list[tuple[list[JsonValue], str]] = [
        ([str(p) for p in e["loc"]], str(e["msg"])) for e in exc.errors()
    ]
    details: JsonValue = [{"loc": loc, "message": message} for loc, message in errors]
    loc, message = errors[0] if errors else ([], "invalid request")
    return error_json(
        "bad_request", f"{'.'.join(map(str, loc))}: {message}" if loc else message, details
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status == 404:
        message = f"nothing at {request.url.path}"
    elif status == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    code = _CODE_OF_STATUS.get(status, "internal" if status >= 500 else "bad_request")
    return error_json(code, message, status=status, headers=exc.headers)


async def _outage(request: Request, exc: Exception) -> Response:
    unavailable = as_unavailable(exc)
    if unavailable is None:
        return await _unexpected(request, exc)
    # The outage itself is logged once by the process's availability monitor.
    log.info("%s %s: %s", request.method, request.url.path, unavailable.message)
    return await _gateway_error(request, unavailable)


_INTERNAL = error_json("internal", "the gateway failed to handle this request")


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Logged here with its traceback; the client learns only that it failed.
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return _INTERNAL


class LoggedOnce:
    """ASGI middleware around the routes: an exception no handler took is answered 500
    `internal` and logged here, once. (Starlette runs an `Exception` handler in its outermost
    middleware, which raises the exception again after answering, and uvicorn then logged a
    second traceback.) After the answer started (a stream), the answer is ended instead."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, receive, sending)
        except Exception as exc:
            log.error("%s %s failed", scope["method"], scope["path"], exc_info=exc)
            if not started:
                await _INTERNAL(scope, receive, send)
                return
            with contextlib.suppress(Exception):  # the client may be gone
                await send({"type": "http.response.body", "body": b"", "more_body": False})


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error of `app` in the one shape."""
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    for outage_type in OUTAGE_TYPES:
        app.add_exception_handler(outage_type, _outage)
    app.add_middleware(LoggedOnce)
