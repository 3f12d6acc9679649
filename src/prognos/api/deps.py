"""Request dependencies as ``Annotated`` aliases: the platform and the calling principal.

The API takes its key from a header only (``Authorization: Bearer`` or ``X-API-Key``), never
from a cookie: a cookie rides along on cross-site requests, a header does not, so the API
needs no CSRF token. The panel has its own signed session (``prognos.web.session``).
Failed keys count against the client's address (``KeyService``'s throttle: 429 past it).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from prognos.domain import Principal
from prognos.service.platform import Platform

# Declared so the OpenAPI lists both ways and /docs offers "Authorize"; checked below.
_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer pk_...")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: pk_...")


async def get_platform(request: Request) -> Platform:
    """Async: it only reads app state, so it runs on the event loop (a plain ``def``
    dependency costs a worker-thread round trip per request)."""
    return request.app.state.platform


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def get_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    header: Annotated[str | None, Security(_header)],
) -> Principal:
    """The key from ``Authorization: Bearer`` or ``X-API-Key``."""
    key = (bearer.credentials.strip() if bearer else None) or header
    return request.app.state.platform.keys.authenticate(key, client_address(request))


PlatformDep = Annotated[Platform, Depends(get_platform)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
