"""The one place where errors become HTTP responses.

Every error leaves the server as JSON ``{"code": …, "description": …}`` (the shape the STAC API
specification and harmony-py expect). :class:`~eoaccess.errors.EOAccessError` subclasses carry
their own status (``InvalidInputError`` → 400, ``NotFoundError`` → 404, …); malformed request
bodies and parameters that FastAPI rejects become 400; unknown routes keep Starlette's 404/405;
anything unexpected becomes a 500 whose body hides the traceback (the log keeps it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eoaccess.errors import EOAccessError

logger = logging.getLogger("eoaccess.server")

INTERNAL_ERROR_DESCRIPTION = "internal server error; the server log has the details"


class RangeNotSatisfiableError(EOAccessError):
    """A byte range starts beyond the end of the file: ask for a range inside it."""

    http_status = 416

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message)
        self.size = size


def error_response(
    status: int, code: str, description: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A JSON error response with the STAC API error shape."""
    return JSONResponse(
        {"code": code, "description": description}, status_code=status, headers=headers
    )


def _eoaccess_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EOAccessError)
    status = exc.http_status
    if status >= 500:
        logger.error("%s %s failed: %s", request.method, request.url.path, exc)
    headers = (
        {"Content-Range": f"bytes */{exc.size}"}
        if isinstance(exc, RangeNotSatisfiableError)
        else None
    )
    return error_response(status, type(exc).__name__, " ".join(str(exc).split()), headers)


def describe_validation_errors(errors: Iterable[dict[str, Any]]) -> str:
    """One line naming each rejected parameter and why (FastAPI's error list is too verbose)."""
    parts = []
    for error in errors:
        location = [str(p) for p in error.get("loc", ())]
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "malformed JSON")
            position = location[1] if len(location) > 1 else "?"
            parts.append(f"request body is not valid JSON: {reason} at character {position}")
            continue
        where = location[0] if location else "request"
        name = ".".join(location[1:])
        if where == "body" and not name:
            subject = "request body"
        elif where == "body":
            subject = f"body field {name!r}"
        else:
            subject = f"{where} parameter {name!r}"
        parts.append(f"{subject}: {error.get('msg', 'invalid value')}")
    return "; ".join(parts) or "invalid request"


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return error_response(400, "InvalidInputError", describe_validation_errors(exc.errors()))


_HTTP_CODES = {404: "NotFoundError", 405: "MethodNotAllowed", 400: "InvalidInputError"}


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    description = str(exc.detail)
    if status == 404 and description == "Not Found":
        description = f"no such resource: {request.url.path}"
    elif status == 405:
        description = f"method {request.method} is not allowed on {request.url.path}"
    return error_response(
        status, _HTTP_CODES.get(status, "HTTPError"), description, headers=exc.headers
    )


# Registry: exception class -> handler building the JSON response (the most specific class wins,
# as Starlette looks handlers up along the exception's MRO).
ERROR_HANDLERS: dict[type[Exception], Callable[[Request, Exception], Response]] = {
    EOAccessError: _eoaccess_error,
    RequestValidationError: _validation_error,
    StarletteHTTPException: _http_error,
}


def install_error_handlers(app: FastAPI) -> None:
    """Register the JSON error handlers on ``app`` (replacing FastAPI's and stac-fastapi's)."""
    for exc_class, handler in ERROR_HANDLERS.items():
        app.add_exception_handler(exc_class, handler)


class CatchAllMiddleware:
    """Turns an unexpected exception into a 500 JSON response without a traceback.

    Starlette's own fallback re-raises after answering, which prints a traceback per request;
    this logs it once and answers like every other error. If the response had already started
    (a file stream broke midway) the connection is closed instead, as nothing else is possible.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            logger.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                return
            response = error_response(500, "InternalServerError", INTERNAL_ERROR_DESCRIPTION)
            await response(scope, receive, send)
