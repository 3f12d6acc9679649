"""Assemble the FastAPI app: error shape, routers under /api/v1, health."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from prognos import __version__
from prognos.api import errors
from prognos.api.routes import assets, forecasts, keys, planning, telemetry
from prognos.api.schemas import Health
from prognos.config import Settings
from prognos.service.platform import Platform, open_platform

ROUTERS = (assets.router, telemetry.router, forecasts.router, planning.router, keys.router)


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
    )
    app.state.platform = platform
    app.state.startup_hooks = []
    app.state.shutdown_hooks = []
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router, prefix="/api/v1")

    @app.get("/api/v1/health", tags=["meta"])
    def health() -> Health:
        return Health(status="ok", version=__version__, store=platform.store_kind)

    return app
