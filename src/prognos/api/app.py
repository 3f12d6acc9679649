"""Assemble the FastAPI app: routers under /api/v1, one error shape, the edge's guards, health.

What wraps every request, outermost first: ``SecurityHeaders``, ``ErrorBoundary`` (a request
id, and a logged 500 in the error shape for anything unhandled) and ``BodyLimit`` (bodies
capped while they stream). Routes parse JSON strictly (``routing``) and bound their queries.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message

from prognos import __version__
from prognos.api import docs, errors
from prognos.api.middleware import BodyLimit, SecurityHeaders
from prognos.api.routes import (
    alarms,
    assets,
    events,
    forecasts,
    keys,
    notifications,
    planning,
    telemetry,
)
from prognos.api.schemas import Health
from prognos.config import Settings
from prognos.service import health as health_checks
from prognos.service.platform import Platform, open_platform

log = logging.getLogger("prognos.api")

ROUTERS = (
    assets.router,
    telemetry.router,
    forecasts.router,
    planning.router,
    keys.router,
    alarms.router,
    notifications.router,
    events.router,
)


def create_app(
    settings: Settings | None = None,
    platform: Platform | None = None,
    owns_platform: bool | None = None,
) -> FastAPI:
    """Build the app over ``platform`` (or one opened from ``settings``), owning its lifetime."""
    owned = platform is None if owns_platform is None else owns_platform
    platform = platform or open_platform(settings or Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await warm_routes(app)
        for hook in app.state.startup_hooks:
            await hook()
        yield
        for hook in reversed(app.state.shutdown_hooks):
            await hook()
        if owned:
            platform.close()

    app = FastAPI(
        title="prognos",
        version=__version__,
        lifespan=lifespan,
        description="Connect sold equipment, predict failures, plan service into customers' calendars.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.platform = platform
    app.state.startup_hooks = []
    app.state.shutdown_hooks = []
    app.state.workers = {}  # the server adds the workers it hosts
    for router in ROUTERS:
        app.include_router(router, prefix="/api/v1")
    docs.install(app)

    @app.get(
        "/api/v1/health",
        tags=["meta"],
        responses={503: {"model": Health, "description": "degraded: see problems"}},
    )
    def health() -> Health:
        """``ok``, or ``degraded`` (answered 503) when the store does not answer or a worker is
        failed or backing off; no key needed, so it names problems without details."""
        out = Health(version=__version__, **health_checks.health(platform, app.state.workers))
        if out.status != "ok":
            return JSONResponse(out.model_dump(), status_code=503)
        return out

    # added innermost first: the boundary sees what the cap raises, and its 500s get the headers
    app.add_middleware(BodyLimit, limit=lambda: platform.settings.max_request_bytes)
    errors.install(app)
    app.add_middleware(SecurityHeaders)
    return app


WARM_UP_PATH = "/api/v1/-warm-up"  # answers 404: no route has it


async def warm_routes(app: ASGIApp) -> None:
    """Send one request that no route answers through the whole app, before any client comes.

    The framework builds on first use what each request needs: the middleware stack, and
    (FastAPI 0.16x) every included router's route state, walked while a path is matched. That
    cost ~0.1 s of CPU on the first request (and again on the first one to a later router),
    paid by a client; a path that matches nothing walks every router, so it is paid here."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": WARM_UP_PATH,
        "raw_path": WARM_UP_PATH.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost")],
        "client": None,
        "server": None,
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: Message) -> None:
        return None

    try:
        await app(scope, receive, send)
    except Exception:  # only a head start: the first client would pay it instead
        log.warning("warming the routes up failed; the first requests build them", exc_info=True)
