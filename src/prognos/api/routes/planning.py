"""Calendars, crews, parts, costs, the plan and work orders."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from prognos.api.deps import PlatformDep, PrincipalDep
from prognos.api.routing import router as make_router
from prognos.api.schemas import CalendarImport, Event, PlanReply
from prognos.domain.planning import (
    CostModel,
    Crew,
    Finding,
    PartStock,
    SiteCalendar,
    Travel,
    WorkOrder,
    WorkOrderStatus,
)
from prognos.service.registry import check_timezone

router = make_router(["planning"])


@router.get("/calendars")
def list_calendars(platform: PlatformDep, principal: PrincipalDep) -> list[SiteCalendar]:
    return platform.calendars.list_calendars(principal)


@router.get("/sites/{site_id}/calendar")
def get_calendar(site_id: str, platform: PlatformDep, principal: PrincipalDep) -> SiteCalendar:
    return platform.calendars.get(principal, site_id)


@router.put("/sites/{site_id}/calendar")
def put_calendar(
    site_id: str, cal: SiteCalendar, platform: PlatformDep, principal: PrincipalDep
) -> SiteCalendar:
    check_timezone(cal.timezone, f"calendar of site {site_id}")
    return platform.calendars.put(principal, cal.model_copy(update={"site_id": site_id}))


@router.post(
    "/sites/{site_id}/calendar.ics",
    openapi_extra={"requestBody": {"content": {"text/calendar": {"schema": {"type": "string"}}}}},
)
async def import_ics(
    site_id: str, request: Request, platform: PlatformDep, principal: PrincipalDep
) -> CalendarImport:
    """Import an iCalendar file: events are shifts, planned stops, shutdowns or blackouts."""
    cal = await run_in_threadpool(
        platform.calendars.import_ics, principal, site_id, await request.body()
    )
    counts: dict[str, int] = {}
    for w in cal.windows:
        counts[w.kind] = counts.get(w.kind, 0) + 1
    return CalendarImport(site_id=site_id, windows=counts)


@router.get("/crews")
def list_crews(platform: PlatformDep, principal: PrincipalDep) -> list[Crew]:
    principal.require_manufacturer()
    return platform.resources.crews(principal)


@router.put("/crews/{crew_id}")
def put_crew(crew_id: str, crew: Crew, platform: PlatformDep, principal: PrincipalDep) -> Crew:
    return platform.resources.put_crew(principal, crew.model_copy(update={"id": crew_id}))


@router.get("/parts")
def list_parts(platform: PlatformDep, principal: PrincipalDep) -> list[PartStock]:
    return platform.resources.stock(principal)


@router.put("/parts")
def put_part(stock: PartStock, platform: PlatformDep, principal: PrincipalDep) -> PartStock:
    return platform.resources.put_stock(principal, stock)


@router.put("/costs/{key}")
def put_cost(key: str, cm: CostModel, platform: PlatformDep, principal: PrincipalDep) -> CostModel:
    """Costs of an asset type (key = type id) or of one asset (key = asset id)."""
    return platform.resources.put_cost_model(principal, key, cm)


@router.put("/travel")
def put_travel(t: Travel, platform: PlatformDep, principal: PrincipalDep) -> Travel:
    return platform.resources.put_travel(principal, t)


@router.post("/plan")
async def post_plan(
    platform: PlatformDep,
    principal: PrincipalDep,
    horizon_days: Annotated[int, Query(ge=1, le=365)] = 56,
    time_limit_s: Annotated[float, Query(gt=0, le=600)] = 10.0,
    commit: bool = True,
) -> PlanReply:
    """Plan preventive replacements; each job says why it sits where it sits. The plan starts
    at the data clock, or now where the data lags more than a day (no job in the past)."""
    out = await run_in_threadpool(
        lambda: platform.planning.plan(
            principal,
            horizon_days=horizon_days,
            time_limit_s=time_limit_s,
            commit=commit,
            now=platform.planning.person_clock()[0],
        )
    )
    return PlanReply.model_validate(out)


@router.get("/workorders")
def list_workorders(
    platform: PlatformDep,
    principal: PrincipalDep,
    status: WorkOrderStatus | None = None,
    asset: str | None = None,
) -> list[WorkOrder]:
    return platform.orders.list_orders(principal, status, asset)


@router.get("/workorders/{order_id}")
def get_workorder(order_id: str, platform: PlatformDep, principal: PrincipalDep) -> WorkOrder:
    return platform.orders.get(principal, order_id)


class OrderChange(BaseModel):
    status: WorkOrderStatus
    finding: Finding | None = None


@router.patch("/workorders/{order_id}")
def patch_workorder(
    order_id: str,
    change: Annotated[OrderChange, Body()],
    platform: PlatformDep,
    principal: PrincipalDep,
) -> WorkOrder:
    """Move an order: scheduled -> dispatched -> in_progress -> done (with its finding)."""
    return platform.orders.transition(principal, order_id, change.status, change.finding)


@router.get("/assets/{asset_id}/events")
def asset_events(asset_id: str, platform: PlatformDep, principal: PrincipalDep) -> list[Event]:
    """Labelled events (failures, replacements) that feed the models."""
    return [Event.model_validate(e) for e in platform.orders.events(principal, asset_id)]
