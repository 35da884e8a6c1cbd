"""One base exception carrying its HTTP status, and the handler that renders it.

Every expected failure is an ``AppError``; the body is always ``{"error": code, "detail": ...}``.
A 500 therefore means a bug.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """The shape of every error response."""

    error: str
    detail: Any = None


class AppError(Exception):
    """An expected error with its status code, machine-readable code and detail."""

    status_code: int = 400
    error: str = "bad_request"

    def __init__(
        self,
        detail: Any = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class Unauthorized(AppError):
    status_code = 401
    error = "unauthorized"

    def __init__(self, detail: Any = "missing or invalid credentials") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(AppError):
    """A valid key that lacks what the call needs (a scope)."""

    status_code = 403
    error = "forbidden"


class NotFound(AppError):
    status_code = 404
    error = "not_found"


class Conflict(AppError):
    status_code = 409
    error = "conflict"


class InvalidRequest(AppError):
    status_code = 422
    error = "validation_error"


class RateLimited(AppError):
    status_code = 429
    error = "rate_limited"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            f"rate limit exceeded; retry after {retry_after_s}s",
            headers={"Retry-After": str(retry_after_s)},
        )


class Unavailable(AppError):
    status_code = 503
    error = "unavailable"

    def __init__(self, detail: Any, *, retry_after_s: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)})


def error_response(status_code: int, error: str, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    """Build the JSON error response of every failure."""
    return JSONResponse(
        status_code=status_code,
        content=ErrorBody(error=error, detail=detail).model_dump(),
        headers=headers,
    )


def _validation_detail(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in err["loc"] if p != "body"), "message": err["msg"], "type": err["type"]}
        for err in exc.errors()
    ]


def _unreadable_body(cause: BaseException) -> dict[str, Any]:
    reason = "nested too deeply" if isinstance(cause, RecursionError) else f"not readable ({type(cause).__name__})"
    return {"field": "", "message": f"invalid JSON: the body is {reason}", "type": "json_invalid"}


def install_error_handlers(app: FastAPI) -> None:
    """Render ``AppError``, HTTP errors, request validation errors and bugs (500) as ``ErrorBody``."""

    async def on_app_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        return error_response(exc.status_code, exc.error, exc.detail, exc.headers)

    async def on_http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400 and exc.__cause__ is not None:
            # FastAPI answers 400 for a JSON body it cannot read at all (bytes that are not UTF-8,
            # nesting past the interpreter's recursion limit), and 422 for any other invalid JSON.
            # Nothing of ours raises a bare 400: all are unreadable bodies, answered as the others.
            return error_response(422, "validation_error", [_unreadable_body(exc.__cause__)])
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, exc.detail, dict(exc.headers or {}))

    async def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, "validation_error", _validation_detail(exc))

    async def on_client_gone(request: Request, _: Exception) -> Response:
        # The client closed the connection before its body arrived (a load balancer's timeout, a
        # load generator stopping): nobody reads an answer, and it is no error of ours. 499 is
        # the status proxies record for it, so it shows in the request metrics.
        log.info("client disconnected before its request was read", extra={"path": request.url.path})
        return Response(status_code=499)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug: logged with its traceback, answered in the one error shape without internals.
        log.error("unhandled error", extra={"path": request.url.path}, exc_info=exc)
        return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(ClientDisconnect, on_client_gone)
    app.add_exception_handler(Exception, on_unexpected)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid API key"},
    413: {"model": ErrorBody, "description": "Body over the size limit"},
    429: {
        "model": ErrorBody,
        "description": "Too many failed authentications from this address or with this key; see Retry-After",
    },
    422: {"model": ErrorBody, "description": "Invalid request"},
    503: {"model": ErrorBody, "description": "A dependency (Kafka, the database) is unavailable; see Retry-After"},
}
