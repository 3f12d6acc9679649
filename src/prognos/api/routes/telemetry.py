"""Telemetry in (JSON long/wide records or CSV) and out (raw or downsampled for charts)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from prognos.api.deps import PlatformDep, PrincipalDep

router = APIRouter(tags=["telemetry"])


@router.post(
    "/telemetry",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
            },
            "description": "Long records {asset_id, ts|cycle, channel, value}, wide records "
            "{asset_id, ts|cycle, values: {channel: value}}, a list of either, or a CSV.",
        }
    },
)
async def post_telemetry(request: Request, platform: PlatformDep, principal: PrincipalDep) -> dict:
    """Store what is valid, quarantine the rest; the reply names every rejected record."""
    body = await request.body()
    ctype = request.headers.get("content-type", "application/json")
    result = await run_in_threadpool(platform.ingest_payload, body, ctype, principal, "http")
    return result.as_dict()


@router.get("/assets/{asset_id}/telemetry")
def get_telemetry(
    asset_id: str,
    platform: PlatformDep,
    principal: PrincipalDep,
    channels: Annotated[str | None, Query(description="comma-separated channel names")] = None,
    start: datetime | None = None,
    end: datetime | None = None,
    max_points: Annotated[int | None, Query(ge=2, le=100_000)] = None,
) -> dict:
    chans = [c for c in channels.split(",") if c] if channels else None
    return platform.telemetry(principal, asset_id, chans, start, end, max_points)


@router.get("/quarantine")
def get_quarantine(
    platform: PlatformDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict:
    return {"items": platform.quarantine(principal, limit, offset)}


@router.post("/store/compact")
async def compact_store(platform: PlatformDep, principal: PrincipalDep) -> dict:
    """Rewrite the readings ordered by asset and time (manufacturer only; see `prognos store
    compact`). Ingest waits while it runs: schedule it for a quiet hour."""
    return await run_in_threadpool(platform.compact_telemetry, principal)
