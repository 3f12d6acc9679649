"""One error shape at the edge: ``{"error": {"code", "message", "hint", "details"}}``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from prognos.errors import PrognosError


def error_body(code: str, message: str, hint: str | None = None, details: object = None) -> dict:
    return {"error": {"code": code, "message": message, "hint": hint, "details": details}}


def install(app: FastAPI) -> None:
    @app.exception_handler(PrognosError)
    async def _prognos(request: Request, exc: PrognosError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.hint, exc.details), status_code=exc.status_code
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(x) for x in e["loc"]), "reason": e["msg"]} for e in exc.errors()
        ]
        return JSONResponse(
            error_body(
                "validation_failed",
                "the request is not valid",
                "see details for each field",
                details,
            ),
            status_code=422,
        )
