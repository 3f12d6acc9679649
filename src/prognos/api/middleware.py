"""What every response goes through: a request body cap that holds while the body streams, and
the security headers.

Both are pure ASGI middleware, so Server-Sent Events and other streamed responses pass as they
are. The cap is read per request from the platform's settings (``PROGNOS_MAX_PAYLOAD_BYTES``):
a body that declares more is refused before one byte of it is read, one that streams past the
cap is refused at the chunk that crosses it, so a 300 MB upload costs the server no more than
the cap.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when the body passes the cap (a 413 in the error shape)."""

    def __init__(self, limit: int, seen: int, declared: int | None):
        size = f"declares {declared} bytes" if declared is not None else f"passed {seen} bytes"
        super().__init__(
            413,
            detail=f"the request body {size}; the limit is {limit} bytes "
            "(split it, or raise PROGNOS_MAX_PAYLOAD_BYTES)",
        )
        self.limit = limit
        self.seen = seen
        self.declared = declared


class BodyLimit:
    """Cap request bodies at ``limit()`` bytes, counted as they arrive."""

    def __init__(self, app: ASGIApp, limit: Callable[[], int]):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit()
        declared = _content_length(scope)
        seen = 0

        async def capped() -> Message:
            nonlocal seen
            if declared is not None and declared > limit:
                raise BodyTooLarge(limit, seen, declared)
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit, seen, None)
            return message

        await self.app(scope, capped, send)


def _content_length(scope: Scope) -> int | None:
    for k, v in scope.get("headers", []):
        if k == b"content-length":
            try:
                return int(v)
            except ValueError:
                return None
    return None


# Scripts and styles come from this server only (the panel vendors uPlot, the API docs their
# bundles); no inline script runs. Inline style attributes stay allowed: the charts set sizes.
# Redoc builds its search worker from a blob.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
_NAMES = {k for k, _ in SECURITY_HEADERS}


class SecurityHeaders:
    """CSP, X-Frame-Options, X-Content-Type-Options and Referrer-Policy on every response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k not in _NAMES]
                message = {**message, "headers": headers + SECURITY_HEADERS}
            await send(message)

        await self.app(scope, receive, send_with_headers)
