"""The HTTP API: ``create_app(settings)`` builds the FastAPI app over one ``Platform``."""

from prognos.api.app import create_app

__all__ = ["create_app"]
