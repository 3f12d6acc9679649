"""The API's documentation pages, served by the app itself: a plant network has no CDN.

FastAPI's own ``/docs`` and ``/redoc`` load Swagger UI and ReDoc from a CDN and run an inline
script, so on an offline network they were blank and under the CSP they could not run. Here
the bundles come from the ``fastapi-offline`` package's files and the start-up script is a
file too, so the pages work offline under ``script-src 'self'``.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

VENDOR = Path(fastapi_offline.__file__).parent / "static"
BASE = "/api-docs"

_SWAGGER = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>prognos API</title>
<link rel="stylesheet" href="{BASE}/vendor/swagger-ui.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml"></head>
<body><div id="swagger-ui"></div>
<script src="{BASE}/vendor/swagger-ui-bundle.js"></script>
<script src="{BASE}/swagger-init.js"></script>
</body></html>"""

_INIT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: false,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout"
});
"""

_REDOC = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>prognos API</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml"></head>
<body><redoc spec-url="/openapi.json"></redoc>
<script src="{BASE}/vendor/redoc.standalone.js"></script>
</body></html>"""


def install(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), everything from this server."""
    app.mount(f"{BASE}/vendor", StaticFiles(directory=str(VENDOR)), name="api-docs-vendor")

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return HTMLResponse(_SWAGGER)

    @app.get(f"{BASE}/swagger-init.js", include_in_schema=False)
    def swagger_init() -> Response:
        return Response(_INIT, media_type="text/javascript")

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return HTMLResponse(_REDOC)
