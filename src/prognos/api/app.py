"""Assemble the FastAPI app: error shape, routers under /api/v1, the control panel at /."""

from __future__ import annotations

import importlib
from contextlib import asynccontextmanager

from fastapi import FastAPI

from prognos import __version__
from prognos.api import errors
from prognos.config import Settings
from prognos.service.platform import Platform, open_platform

API_ROUTERS = ("assets", "telemetry", "forecasts", "planning", "keys")


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
    for name in API_ROUTERS:
        module = importlib.import_module(f"prognos.api.routes.{name}")
        app.include_router(module.router, prefix="/api/v1")

    @app.get("/api/v1/health", tags=["meta"])
    def health() -> dict:
        return {"status": "ok", "version": __version__, "store": platform.store.kind}

    return app
