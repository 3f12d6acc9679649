"""The control panel: server-rendered pages, charts drawn in the browser by the vendored uPlot,
and live updates over Server-Sent Events. Nothing is loaded from a CDN: plants are often offline.

``prognos.server`` mounts it beside the API::

    mount_panel(app, platform)      # pages at /, scripts and styles at /static, events at /events

The panel authenticates with the signed session cookie the login page sets (it holds the key's
id, never the key: ``session``), through the service layer; it never imports ``prognos.api``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from prognos.service.platform import Platform
from prognos.web import actions, alarm_pages, data, i18n, pages, session
from prognos.web.live import Hub
from prognos.web.views import alarms as alarm_views

HERE = Path(__file__).parent


class Panel:
    """What the panel's routes share: the platform, the templates and the live-update hub."""

    def __init__(self, platform: Platform):
        self.platform = platform
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.filters.update(session.FILTERS)
        i18n.install(self.templates.env)
        alarm_views.install(self.templates.env)
        self.hub = Hub()
        self.sessions = session.Sessions(
            session.session_secret(platform), platform.settings.session_hours
        )


def mount_panel(app: FastAPI, platform: Platform) -> Panel:
    """Add the panel's routes, static files and live hub to ``app``."""
    panel = Panel(platform)
    app.state.panel = panel
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for module in (pages, actions, alarm_pages, data):
        app.include_router(module.router, include_in_schema=False)
    session.install(app)

    async def start() -> None:
        panel.hub.open()
        platform.telemetry.on_readings(panel.hub.publish)

    async def stop() -> None:
        platform.telemetry.off_readings(panel.hub.publish)
        panel.hub.close()

    if hasattr(app.state, "startup_hooks"):
        app.state.startup_hooks.append(start)
        app.state.shutdown_hooks.append(stop)
    return panel
