"""The running platform as one ASGI app: the API, the control panel, and in-process workers.

``prognos serve`` runs this. On the embedded DuckDB default the server is the one process that
writes the file, so the ingest workers the settings ask for (MQTT, OPC UA) run inside it.
"""

from __future__ import annotations

from fastapi import FastAPI

from prognos.api import create_app
from prognos.config import Settings
from prognos.service.platform import Platform, open_platform
from prognos.web import mount_panel


def create_server_app(
    settings: Settings | None = None, platform: Platform | None = None
) -> FastAPI:
    settings = settings or Settings()
    platform = platform or open_platform(settings)
    app = create_app(settings, platform=platform, owns_platform=True)
    mount_panel(app, platform)
    return app
