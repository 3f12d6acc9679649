"""How routes read requests: JSON strictly, and query values within sane bounds.

Python's ``json`` accepts what JSON does not (``NaN``, ``Infinity``, ``1e999`` read as infinity,
a lone surrogate in a string) and each of those later failed deep inside as a 500. Routes here
parse bodies with orjson instead, which refuses all of them: a 422 naming the position.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.routing import APIRoute
from pydantic import AfterValidator

MAX_OFFSET = 1_000_000_000  # far past any page, well inside every engine's integers
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = orjson.loads(await self.body())  # JSONDecodeError: FastAPI's 422
        return self._json


class StrictJsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict


def router(tags: list[str]) -> APIRouter:
    """An API router whose routes parse JSON strictly."""
    return APIRouter(tags=tags, route_class=StrictJsonRoute)


def _in_range(v: datetime) -> datetime:
    """Aware UTC between 1900 and 2200: year 1 or 9999 broke time arithmetic further in."""
    try:
        v = v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
    except (OverflowError, ValueError) as e:
        raise ValueError("the time is out of range (1900 to 2200)") from e
    if not EARLIEST <= v < LATEST:
        raise ValueError("the time is out of range (1900 to 2200)")
    return v


Instant = Annotated[datetime, AfterValidator(_in_range)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]
