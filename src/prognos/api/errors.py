"""One error shape at the edge, for every status: ``{"error": {"code", "message", "hint", "details"}}``.

Three kinds of failure reach a client, and all leave here in that shape:

- ``PrognosError`` raised on purpose by any layer (404, 409, 422, 503 ...), with its hint;
- the framework's own refusals: no such route (404), wrong method (405), a body that is not
  JSON or does not fit the schema (422), a body over the cap (413);
- anything unexpected: ``ErrorBoundary`` logs it with the request's id and answers 500 in the
  same shape, never with a traceback.

Every response carries ``X-Request-ID`` (the caller's, when it sent a sane one), so a user's
report and the server's log line meet.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prognos.errors import PrognosError

log = logging.getLogger("prognos.api")

REQUEST_ID = "x-request-id"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_HTTP_CODES = {
    400: ("bad_request", "the request could not be read"),
    401: ("access_denied", "authentication is required"),
    403: ("forbidden", "this key may not do this"),
    404: ("not_found", "no such resource"),
    405: ("method_not_allowed", "this resource does not accept that method"),
    406: ("not_acceptable", "no representation of this resource matches the Accept header"),
    413: ("payload_too_large", "the request body is over the size limit"),
    415: ("unsupported_media_type", "this content type is not accepted here"),
    429: ("too_many_requests", "too many requests"),
}


def error_body(code: str, message: str, hint: str | None = None, details: object = None) -> dict:
    return {"error": {"code": code, "message": message, "hint": hint, "details": details}}


def request_id(request: Request) -> str:
    return request.scope.get("prognos.request_id") or "-"


def prognos_response(exc: PrognosError) -> JSONResponse:
    headers = {}
    retry = getattr(exc, "retry_after", None)
    if retry is not None:
        headers["Retry-After"] = str(max(1, int(retry + 0.999)))
    return JSONResponse(
        error_body(exc.code, exc.message, exc.hint, _plain(exc.details)),
        status_code=exc.status_code,
        headers=headers,
    )


def install(app: FastAPI) -> None:
    """Register the handlers and the boundary on ``app``."""

    @app.exception_handler(PrognosError)
    async def _prognos(request: Request, exc: PrognosError) -> JSONResponse:
        if exc.status_code >= 500:
            log.warning(
                "%s %s: %s [request %s]", request.method, request.url.path, exc, request_id(request)
            )
        return prognos_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(x) for x in e.get("loc", ())), "reason": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        return JSONResponse(
            error_body(
                "validation_failed",
                "the request is not valid",
                "see details for each field",
                details,
            ),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = _HTTP_CODES.get(exc.status_code, ("http_error", "the request failed"))
        if exc.status_code == 404:
            message = f"no such resource: {request.method} {request.url.path}"
            hint = "see /docs for the routes"
        elif exc.status_code == 405:
            message = f"{request.url.path} does not accept {request.method}"
            hint = "see the Allow header"
        else:
            detail = exc.detail if isinstance(exc.detail, str) else None
            hint = detail if detail and detail.lower() != message.lower() else None
        return JSONResponse(
            error_body(code, message, hint),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    app.add_middleware(ErrorBoundary)


def _plain(details: Any) -> Any:
    """Details as JSON can carry them (a rejection's raw value may be anything)."""
    if details is None or isinstance(details, str | int | float | bool):
        return details
    if isinstance(details, dict):
        return {str(k): _plain(v) for k, v in details.items()}
    if isinstance(details, list | tuple):
        return [_plain(v) for v in details]
    return str(details)


class ErrorBoundary:
    """The last line: an exception nobody handled becomes a logged 500 in the error shape.

    Pure ASGI (no ``BaseHTTPMiddleware``), so streamed responses pass through untouched. An
    exception after the response started can only be logged: the status line is gone.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope) or uuid.uuid4().hex[:16]
        scope["prognos.request_id"] = rid
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception(
                "unexpected error in %s %s [request %s]",
                scope.get("method"),
                scope.get("path"),
                rid,
            )
            if started:
                return
            response = JSONResponse(
                error_body(
                    "internal_error",
                    "an unexpected error occurred; nothing about it is shown here",
                    f"the server's log has the details under request id {rid}",
                    {"request_id": rid},
                ),
                status_code=500,
            )
            await response(scope, receive, send_with_id)


def _incoming_id(scope: Scope) -> str | None:
    for k, v in scope.get("headers", []):
        if k == b"x-request-id":
            text = v.decode("latin-1")
            return text if _SANE_ID.match(text) else None
    return None
