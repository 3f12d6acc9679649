"""Request dependencies as ``Annotated`` aliases: the platform and the calling principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from prognos.domain import Principal
from prognos.service.platform import Platform


def get_platform(request: Request) -> Platform:
    return request.app.state.platform


def get_principal(request: Request) -> Principal:
    """The key from ``Authorization: Bearer``, ``X-API-Key`` or the panel's session cookie."""
    auth = request.headers.get("authorization", "")
    key = auth[7:].strip() if auth.lower().startswith("bearer ") else None
    key = key or request.headers.get("x-api-key") or request.cookies.get("prognos_key")
    return request.app.state.platform.keys.authenticate(key)


PlatformDep = Annotated[Platform, Depends(get_platform)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
