"""Telemetry in (JSON long/wide records or CSV) and out (raw or downsampled for charts)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.concurrency import run_in_threadpool

from prognos.api.deps import PlatformDep, PrincipalDep
from prognos.api.middleware import BodyTooLarge
from prognos.api.routing import Instant, Offset
from prognos.api.routing import router as make_router
from prognos.api.schemas import Compaction, IngestReply, QuarantinePage, TelemetrySeries

router = make_router(["telemetry"])


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
    responses={413: {"description": "over PROGNOS_MAX_PAYLOAD_BYTES; quarantined by its start"}},
)
async def post_telemetry(
    request: Request, platform: PlatformDep, principal: PrincipalDep
) -> IngestReply:
    """Store what is valid, quarantine the rest, in one transaction; the reply counts what
    was stored and names every rejected record. A payload over the limit is read no further
    than the limit, quarantined by its first bytes and answered 413."""
    limit = platform.settings.max_payload_bytes
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(limit, size, None)
            chunks.append(chunk)
    except BodyTooLarge as e:
        head = b"".join(chunks)[:2000]
        told = f"{e.declared} bytes" if e.declared is not None else f"over {size} bytes"
        await run_in_threadpool(platform.telemetry.refuse_oversized, principal, head, told, "http")
    body = b"".join(chunks)
    ctype = request.headers.get("content-type", "application/json")
    result = await run_in_threadpool(
        platform.telemetry.ingest_payload, principal, body, ctype, "http"
    )
    return IngestReply.model_validate(result.as_dict())


@router.get("/assets/{asset_id}/telemetry", response_model_exclude_unset=True)
def get_telemetry(
    asset_id: str,
    platform: PlatformDep,
    principal: PrincipalDep,
    channels: Annotated[str | None, Query(description="comma-separated channel names")] = None,
    start: Instant | None = None,
    end: Instant | None = None,
    max_points: Annotated[int | None, Query(ge=2, le=100_000)] = None,
) -> TelemetrySeries:
    chans = [c for c in channels.split(",") if c] if channels else None
    return TelemetrySeries.model_validate(
        platform.telemetry.series(principal, asset_id, chans, start, end, max_points)
    )


@router.get("/quarantine")
def get_quarantine(
    platform: PlatformDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> QuarantinePage:
    """Rejected records the key may see (a customer's: its own), newest first."""
    return QuarantinePage.model_validate(
        {"items": platform.telemetry.quarantined(principal, limit, offset)}
    )


@router.post("/store/compact")
async def compact_store(platform: PlatformDep, principal: PrincipalDep) -> Compaction:
    """Rewrite the readings ordered by asset and time (manufacturer only; see `prognos store
    compact`). Ingest waits while it runs: schedule it for a quiet hour."""
    return Compaction.model_validate(await run_in_threadpool(platform.telemetry.compact, principal))
