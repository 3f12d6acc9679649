"""What the page scripts fetch: downsampled sensor series, forecast charts, live events."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from prognos.errors import PrognosError
from prognos.web.session import Viewer, panel_of
from prognos.web.views import asset as asset_views

router = APIRouter()

RANGES = {"1d": 1, "7d": 7, "30d": 30, "90d": 90, "365d": 365}
FORECAST_POLL_S = 5.0
KEEPALIVE_S = 15.0
KEY_CHECK_S = 2.0  # a revoked key's open stream ends within this (and the 1 s wake-up)


def _error(e: PrognosError) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": e.code, "message": e.message, "hint": e.hint}}, status_code=e.status_code
    )


@router.get("/panel/data/assets/{asset_id}/telemetry")
def telemetry(
    request: Request,
    asset_id: str,
    viewer: Viewer,
    channels: str | None = None,
    range: str = "all",
    start: datetime | None = None,
    end: datetime | None = None,
    max_points: Annotated[int, Query(ge=2, le=2000)] = 300,
):
    """Min/max/mean per bucket for the charts, over the last ``range`` of the asset's data or
    between ``start`` and ``end`` (a zoomed chart asks for its window at full resolution), and
    the newest reading of each channel (the charts' headlines)."""
    platform = panel_of(request).platform
    chans = [c for c in channels.split(",") if c] if channels else None
    custom = start is not None or end is not None
    try:
        if not custom and range in RANGES:
            _, last, n = platform.telemetry.span(viewer, asset_id)
            if n:
                start = last - timedelta(days=RANGES[range])
        out = platform.telemetry.series(
            viewer, asset_id, chans, start=start, end=end, max_points=max_points
        )
        out["latest"] = asset_views.latest_readings(platform, viewer, asset_id, chans, out["last"])
    except PrognosError as e:
        return _error(e)
    out["range"] = "custom" if custom else range
    return JSONResponse(out)  # plain lists: skip FastAPI's per-element encoder


@router.get("/panel/data/assets/{asset_id}/forecast")
def forecast(request: Request, asset_id: str, viewer: Viewer):
    try:
        return JSONResponse(
            asset_views.forecast_chart(panel_of(request).platform, viewer, asset_id)
        )
    except PrognosError as e:
        return _error(e)


@router.get("/panel/data/fleet/stamp")
def fleet_stamp(request: Request, viewer: Viewer):
    """What the fleet page polls: a new stamp means its numbers changed, so it refetches."""
    return JSONResponse({"stamp": panel_of(request).platform.fleet.stamp(viewer)})


@router.get("/panel/data/assets/{asset_id}/health")
def health(request: Request, asset_id: str, viewer: Viewer):
    try:
        return JSONResponse(asset_views.health_chart(panel_of(request).platform, viewer, asset_id))
    except PrognosError as e:
        return _error(e)


@router.get("/panel/data/assets/{asset_id}/backtest")
def backtest(request: Request, asset_id: str, viewer: Viewer):
    try:
        return JSONResponse(
            asset_views.backtest_chart(panel_of(request).platform, viewer, asset_id)
        )
    except PrognosError as e:
        return _error(e)


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"


@router.get("/events")
async def events(request: Request, asset: str, viewer: Viewer):
    """Server-Sent Events for one asset: ``readings`` as batches commit, ``forecast`` on refresh."""
    panel = panel_of(request)
    platform = panel.platform
    try:
        await run_in_threadpool(platform.registry.asset, viewer, asset)
    except PrognosError as e:
        return _error(e)
    stamp = await run_in_threadpool(platform.forecasts.stamp, viewer, asset)
    sub = panel.hub.subscribe(asset)

    async def stream():
        nonlocal stamp
        loop = asyncio.get_running_loop()
        polled = quiet = checked = loop.time()
        try:
            yield "retry: 3000\n" + _sse("hello", {"asset_id": asset})
            while not panel.hub.closed:
                try:
                    ev = await asyncio.wait_for(sub.queue.get(), timeout=1.0)
                except TimeoutError:
                    ev = False
                if ev is None:
                    break
                now = loop.time()
                if now - checked >= KEY_CHECK_S:
                    checked = now
                    if not await run_in_threadpool(platform.keys.still_valid, viewer):
                        yield _sse("end", {"reason": "the key of this session was revoked"})
                        break
                if ev:
                    quiet = now
                    yield _sse("readings", ev)
                if now - polled >= FORECAST_POLL_S:
                    polled = now
                    fresh = await run_in_threadpool(platform.forecasts.stamp, viewer, asset)
                    if fresh != stamp:
                        stamp, quiet = fresh, now
                        yield _sse("forecast", {"asset_id": asset, "stamp": fresh})
                if now - quiet >= KEEPALIVE_S:
                    quiet = now
                    yield ": keep-alive\n\n"
        finally:
            panel.hub.unsubscribe(sub)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
