"""Service planning in the platform: calendars, crews, parts, costs, the plan, and work orders.

Planning objects are kept as typed documents in the store (``kind`` below). The plan is made
from the newest forecast of every asset that has a cost model and a calendar, with open work
orders committed (rolling re-planning); a completed order's finding becomes a labelled event
(kind ``event``) that training reads, and a replaced part starts a new life for its asset.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from prognos.domain import FailureForecast, Principal
from prognos.domain.planning import (
    CostModel,
    Crew,
    Finding,
    PartStock,
    Plan,
    PlanAsset,
    SiteCalendar,
    Travel,
    WorkOrder,
    WorkOrderStatus,
)
from prognos.errors import Forbidden, NotFound, ValidationFailed
from prognos.service.platform import Platform

CALENDAR, CREW, STOCK, COST, TRAVEL, ORDER, EVENT = (
    "calendar",
    "crew",
    "part_stock",
    "cost_model",
    "travel",
    "workorder",
    "event",
)


# -- calendars ----------------------------------------------------------------------------------
def _site_for(platform: Platform, p: Principal, site_id: str):
    site = platform.store.get_site(site_id)
    if site is None or not p.may_see(site.customer_id):
        raise NotFound(f"site {site_id!r} not found")
    return site


def put_calendar(platform: Platform, p: Principal, cal: SiteCalendar) -> SiteCalendar:
    """A customer keeps its own sites' calendars; the manufacturer any."""
    site = _site_for(platform, p, cal.site_id)
    cal = cal.model_copy(
        update={"timezone": cal.timezone if cal.timezone != "UTC" else site.timezone}
    )
    platform.store.put_document(
        CALENDAR, site.id, cal.model_dump(mode="json"), customer_id=site.customer_id
    )
    return cal


def import_ics(
    platform: Platform, p: Principal, site_id: str, ics: bytes | str, days: int = 400
) -> SiteCalendar:
    from prognos.planning.calendar import from_ics

    site = _site_for(platform, p, site_id)
    cal = from_ics(
        ics, site_id, until=datetime.now(UTC) + timedelta(days=days), timezone=site.timezone
    )
    return put_calendar(platform, p, cal)


def get_calendar(platform: Platform, p: Principal, site_id: str) -> SiteCalendar:
    _site_for(platform, p, site_id)
    body = platform.store.get_document(CALENDAR, site_id)
    if body is None:
        raise NotFound(f"site {site_id!r} has no calendar", hint="PUT one or import an .ics file")
    return SiteCalendar.model_validate(body)


def list_calendars(platform: Platform, p: Principal) -> list[SiteCalendar]:
    docs = platform.store.list_documents(
        CALENDAR, customer_id=None if p.is_manufacturer else p.customer_id
    )
    return [SiteCalendar.model_validate(d) for d in docs]


# -- crews, parts, costs, travel (the manufacturer's own resources) --------------------------------
def _maker(p: Principal) -> None:
    if not p.is_manufacturer:
        raise Forbidden(
            "only the manufacturer's keys may do this: crews, parts, costs, plans and work orders are its own"
        )


def put_crew(platform: Platform, p: Principal, crew: Crew) -> Crew:
    _maker(p)
    platform.store.put_document(CREW, crew.id, crew.model_dump(mode="json"))
    return crew


def put_stock(platform: Platform, p: Principal, s: PartStock) -> PartStock:
    _maker(p)
    platform.store.put_document(STOCK, f"{s.depot_id}:{s.part}", s.model_dump(mode="json"))
    return s


def put_cost_model(platform: Platform, p: Principal, key: str, cm: CostModel) -> CostModel:
    """Costs for an asset type (``key`` = type id) or one asset (``key`` = asset id)."""
    _maker(p)
    platform.store.put_document(COST, key, {**cm.model_dump(mode="json"), "_key": key})
    return cm


def put_travel(platform: Platform, p: Principal, t: Travel) -> Travel:
    _maker(p)
    platform.store.put_document(TRAVEL, "default", t.model_dump(mode="json"))
    return t


def crews(platform: Platform) -> list[Crew]:
    return [Crew.model_validate(d) for d in platform.store.list_documents(CREW)]


def stock(platform: Platform) -> list[PartStock]:
    return [PartStock.model_validate(d) for d in platform.store.list_documents(STOCK)]


def cost_models(platform: Platform) -> dict[str, CostModel]:
    """Cost models by key: an asset type id, or an asset id for per-asset costs."""
    return {
        d.get("_key", d["asset_type"]): CostModel.model_validate(
            {k: v for k, v in d.items() if k != "_key"}
        )
        for d in platform.store.list_documents(COST)
    }


def travel(platform: Platform) -> Travel:
    body = platform.store.get_document(TRAVEL, "default")
    return Travel.model_validate(body) if body else Travel()


# -- planning -----------------------------------------------------------------------------------
HOURS_PER_OPERATING_DAY = 16.0  # the planner counts usage in operating days (two shifts)


def in_operating_days(f: FailureForecast) -> FailureForecast:
    """The planner counts life in operating days: cycles are one each, hours two shifts' worth."""
    if f.time_unit != "hours":
        return f
    # dividing time by a constant keeps the shape of both tails
    return dataclasses.replace(
        f,
        values=tuple(v / HOURS_PER_OPERATING_DAY for v in f.values),
        time_unit="days",
        extra=dict(f.extra),
    )


def plan_inputs(platform: Platform) -> dict[str, Any]:
    """Everything the planner needs, as the platform knows it now."""
    sites = {s.id: s for s in platform.store.list_sites()}
    calendars = {
        d["site_id"]: SiteCalendar.model_validate(d)
        for d in platform.store.list_documents(CALENDAR)
    }
    costs = cost_models(platform)
    forecasts = platform.store.latest_forecasts()
    assets = []
    for a in platform.store.list_assets():
        if a.id in forecasts and a.site_id in calendars and (a.type_id in costs or a.id in costs):
            assets.append(
                PlanAsset(
                    asset_id=a.id,
                    site_id=a.site_id,
                    region=sites[a.site_id].region,
                    asset_type=a.type_id,
                )
            )
    return {
        "forecasts": {a.key: in_operating_days(forecasts[a.asset_id]) for a in assets},
        "assets": assets,
        "calendars": {s: calendars[s] for s in {a.site_id for a in assets}},
        "crews": crews(platform),
        "stock": stock(platform),
        "costs": costs,
        "travel": travel(platform),
    }


def make_plan(
    platform: Platform,
    p: Principal,
    *,
    horizon_days: int = 56,
    time_limit_s: float = 10.0,
    now: datetime | None = None,
    commit: bool = True,
) -> dict[str, Any]:
    """Plan (or re-plan) every asset; with ``commit`` the work orders are created, moved, cancelled."""
    from prognos.planning.replan import replan

    _maker(p)
    now = now or datetime.now(UTC)
    inp = plan_inputs(platform)
    if not inp["assets"]:
        raise ValidationFailed(
            "nothing to plan: no asset has a forecast, a calendar for its site and a cost model for its type",
            hint="train and forecast (prognos train, prognos forecast), PUT site calendars and cost models",
        )
    if not inp["crews"]:
        raise ValidationFailed(
            "no service crews: the plan needs at least one", hint="PUT /api/v1/crews/{id}"
        )
    orders = list_orders(platform, p)
    result = replan(
        orders,
        inp["forecasts"],
        inp["assets"],
        inp["calendars"],
        inp["crews"],
        inp["stock"],
        inp["costs"],
        now=now,
        horizon_days=horizon_days,
        travel=inp["travel"],
        time_limit_s=time_limit_s,
    )
    if commit:
        owner = {a.id: a.customer_id for a in platform.store.list_assets()}
        changed = set(result.created) | set(result.moved) | set(result.cancelled)
        for o in result.orders:
            if o.id in changed:
                save_order(platform, o, owner[o.asset_id])
    return {
        "plan": result.plan.as_dict(),
        "created": result.created,
        "moved": result.moved,
        "cancelled": result.cancelled,
        "committed": commit,
    }


# -- work orders --------------------------------------------------------------------------------
def save_order(platform: Platform, o: WorkOrder, customer_id: str | None = None) -> WorkOrder:
    """Store a work order as the document the planner, the API and the panel share."""
    if customer_id is None:
        a = platform.store.get_asset(o.asset_id)
        if a is None:
            raise NotFound(f"work order {o.id}: asset {o.asset_id!r} does not exist")
        customer_id = a.customer_id
    platform.store.put_document(
        ORDER,
        o.id,
        o.model_dump(mode="json"),
        customer_id=customer_id,
        asset_id=o.asset_id,
        status=o.status.value,
    )
    return o


def list_orders(
    platform: Platform, p: Principal, status: str | None = None, asset_id: str | None = None
) -> list[WorkOrder]:
    docs = platform.store.list_documents(
        ORDER,
        customer_id=None if p.is_manufacturer else p.customer_id,
        asset_id=asset_id,
        status=status,
    )
    return [WorkOrder.model_validate(d) for d in docs]


def get_order(platform: Platform, p: Principal, order_id: str) -> WorkOrder:
    body = platform.store.get_document(ORDER, order_id)
    if body is None:
        raise NotFound(f"work order {order_id!r} not found")
    o = WorkOrder.model_validate(body)
    a = platform.store.get_asset(o.asset_id)
    if a is None or not p.may_see(a.customer_id):
        raise NotFound(f"work order {order_id!r} not found")
    return o


def transition(
    platform: Platform, p: Principal, order_id: str, to: str, finding: Finding | None = None
) -> WorkOrder:
    """Move an order along its lifecycle; ``done`` needs the finding, which feeds the models.

    Only the manufacturer moves orders: its crews do the work. Customers see them.
    """
    _maker(p)
    o = get_order(platform, p, order_id)
    asset = platform.store.get_asset(o.asset_id)
    if to == WorkOrderStatus.done:
        if finding is None:
            raise ValidationFailed(
                f"completing work order {order_id} needs a finding",
                hint="send condition, failure_found, part_replaced, measured_wear, at",
            )
        if o.status is WorkOrderStatus.dispatched:
            o = o.transition(WorkOrderStatus.in_progress, finding.at)
        o = o.complete(finding)
        _feed_back(platform, o, asset)
    else:
        o = o.transition(to)
    save_order(platform, o, asset.customer_id)
    return o


def _feed_back(platform: Platform, o: WorkOrder, asset) -> None:
    """The finding becomes a labelled event; a replaced part starts a new life for the asset."""
    event = o.feedback_event()
    t = platform.asset_type(asset.type_id)
    at = datetime.fromisoformat(event["at"])
    event.update(
        {
            "id": f"{o.id}-finding",
            "work_order": o.id,
            "life_start": asset.installed_at.isoformat(),
            "age": (at - asset.installed_at).total_seconds() / t.time_unit.seconds,
        }
    )
    platform.store.put_document(
        EVENT,
        event["id"],
        event,
        customer_id=asset.customer_id,
        asset_id=asset.id,
        status=event["kind"],
    )
    if event["resets_age"]:
        platform.store.upsert_assets([asset.model_copy(update={"installed_at": at})])
        platform._registry_changed()


def events(platform: Platform, p: Principal, asset_id: str) -> list[dict[str, Any]]:
    platform.get_asset(p, asset_id)
    return platform.store.list_documents(EVENT, asset_id=asset_id)


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return plan.as_dict()
