"""The plan: preventive replacements put into customers' windows with crews and parts.

The plan is made from the newest forecast of every asset that has a cost model and a calendar,
with open work orders committed (rolling re-planning: orders move, are created or cancelled
only by the rules of ``planning.replan``).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from prognos.domain import FailureForecast, Principal
from prognos.domain.planning import PlanAsset, WorkOrderStatus
from prognos.errors import ValidationFailed
from prognos.planning.replan import replan
from prognos.service.calendars import CalendarService
from prognos.service.lifecycle import LifecycleService
from prognos.service.plan_triggers import ORDER_KIND, RESOURCE_KINDS, PlanInputs, risk_vector
from prognos.service.registry import RegistryService
from prognos.service.resources import OWN, ResourceService
from prognos.service.timeutil import as_utc
from prognos.service.workorders import FINAL, WorkOrderService
from prognos.store.ports import DocumentsPort, ForecastsPort, StampsPort

HOURS_PER_DAY = 24.0
STALE_CLOCK = timedelta(days=1)  # a data clock further behind now than this is not "today"


def in_days(f: FailureForecast) -> FailureForecast:
    """The planner counts hours in days of the clock, as the platform counts a part's age
    (``TimeUnit.seconds``: an elevator's hours run at night and on Sundays too); cycles stay
    cycles, one per operating day. The cost models' wasted life is per day or cycle.

    (Hours were once read as operating days of two shifts, 16 h: a part wearing round the clock
    then looked twice as far from its end as it was, and its job came after the failure.)"""
    if f.time_unit != "hours":
        return f
    # dividing time by a constant keeps the shape of both tails
    return dataclasses.replace(
        f,
        values=tuple(v / HOURS_PER_DAY for v in f.values),
        time_unit="days",
        extra=dict(f.extra),
    )


class PlanningService:
    def __init__(
        self,
        forecasts: ForecastsPort,
        registry: RegistryService,
        calendars: CalendarService,
        resources: ResourceService,
        orders: WorkOrderService,
        lifecycle: LifecycleService,
        documents: DocumentsPort,
        stamps: StampsPort,
    ):
        self._forecasts = forecasts
        self._registry = registry
        self._calendars = calendars
        self._resources = resources
        self._orders = orders
        self._lifecycle = lifecycle
        self._docs = documents
        self._stamps = stamps

    def inputs(self, p: Principal) -> dict[str, Any]:
        """Everything the planner needs, as the platform knows it now."""
        p.require_manufacturer(OWN)
        sites = {s.id: s for s in self._registry.sites(p)}
        calendars = {c.site_id: c for c in self._calendars.list_calendars(p)}
        costs = self._resources.cost_models(p)
        forecasts = self.current_forecasts()
        down = self._down(p, forecasts)
        assets = []
        for a in self._registry.snapshot().assets.values():
            if (
                not a.retired
                and a.id in forecasts
                and a.id not in down
                and a.site_id in calendars
                and (a.type_id in costs or a.id in costs)
            ):
                assets.append(
                    PlanAsset(
                        asset_id=a.id,
                        site_id=a.site_id,
                        region=sites[a.site_id].region,
                        asset_type=a.type_id,
                    )
                )
        assets.sort(key=lambda a: a.asset_id)
        return {
            "forecasts": {a.key: in_days(forecasts[a.asset_id]) for a in assets},
            "assets": assets,
            "calendars": {s: calendars[s] for s in {a.site_id for a in assets}},
            "crews": self._resources.crews(p),
            "stock": self._resources.stock(p),
            "costs": costs,
            "travel": self._resources.travel(p),
        }

    def _down(self, p: Principal, forecasts: dict[str, FailureForecast]) -> set[str]:
        """Assets that failed after their newest forecast: there is nothing left to prevent
        (a labelled failure, e.g. a run-to-failure history loaded as events)."""
        out = set()
        for ev in self._orders.failures(p):
            f = forecasts.get(ev.get("asset_id"))
            if f is not None and not ev.get("component") and as_utc(ev["at"]) >= f.as_of:
                out.add(ev["asset_id"])
        return out

    def current_forecasts(self) -> dict[str, FailureForecast]:
        """The latest forecast of each asset's current part: one made before the part was
        replaced speaks for the part that is gone (until the new part has readings enough for
        its own, the asset has none, and is not planned on the old part's wear)."""
        assets = self._registry.snapshot().assets
        return {
            k: f
            for k, f in self._forecasts.latest_forecasts().items()
            if k in assets and f.as_of >= assets[k].installed_at
        }

    def at_risk(
        self, p: Principal, days: float = 14.0, threshold: float = 0.5
    ) -> list[dict[str, Any]]:
        """Live assets likely to fail within ``days``: the order covering each, or why none
        does (``plan_risk.at_risk``)."""
        from prognos.service.plan_risk import at_risk

        p.require_manufacturer(OWN)
        return at_risk(
            self.inputs(p),
            self._registry.snapshot().assets,
            self.current_forecasts(),
            self._orders.list_orders(p),
            days=days,
            threshold=threshold,
        )

    def snapshot(
        self, p: Principal, horizon_days: int, before: PlanInputs | None = None
    ) -> PlanInputs:
        """What the plan depends on now, cheaply (``plan_triggers``): forecasts are read again
        only when their stamp moved since ``before``."""
        p.require_manufacturer(OWN)
        stamp = self._forecasts.forecasts_stamp()
        docs = self._docs.documents_stamp([*RESOURCE_KINDS, ORDER_KIND])
        now = PlanInputs(
            clock=self._lifecycle.data_clock(datetime.now(UTC)),
            documents=docs,
            orders=self._docs.count_documents(ORDER_KIND),
            registry=str(self._stamps.stamp("registry")),
            forecasts_stamp=stamp,
        )
        if before is not None and before.forecasts_stamp == stamp:
            now.risk = before.risk
            return now
        assets = self._registry.snapshot().assets
        now.risk = {
            k: risk_vector(in_days(f), horizon_days)
            for k, f in self.current_forecasts().items()
            if not assets[k].retired
        }
        return now

    def person_clock(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        """``(start, data_clock)``: when a plan a person asks for (the CLI, the API) starts.
        The data clock, unless it lags ``now`` by more than ``STALE_CLOCK``: then now, for a
        job nobody can do in the past (after the demo's setup the data ends four weeks back
        until the simulator catches up). The planner worker plans from the data clock itself,
        so a replay plans in the replayed time."""
        now = now or datetime.now(UTC)
        clock = self._lifecycle.data_clock(now)
        return (now if now - clock > STALE_CLOCK else clock), clock

    def plan(
        self,
        p: Principal,
        *,
        horizon_days: int = 56,
        time_limit_s: float = 10.0,
        now: datetime | None = None,
        commit: bool = True,
    ) -> dict[str, Any]:
        """Plan (or re-plan) every asset from ``now`` (default: the data clock, the newest
        reading's time: see ``LifecycleService``); with ``commit`` the work orders are created,
        moved, cancelled. Open orders of retired assets are cancelled; those of assets the plan
        cannot see (no forecast, calendar or cost model) are left as they are."""
        p.require_manufacturer(OWN)
        now = now or self._lifecycle.data_clock(datetime.now(UTC))
        inp = self.inputs(p)
        if not inp["assets"]:
            raise ValidationFailed(
                "nothing to plan: no asset has a forecast, a calendar for its site and a cost "
                "model for its type",
                hint="train and forecast (prognos train, prognos forecast), PUT site calendars "
                "and cost models",
            )
        if not inp["crews"]:
            raise ValidationFailed(
                "no service crews: the plan needs at least one", hint="PUT /api/v1/crews/{id}"
            )
        snap = self._registry.snapshot().assets
        planned = {a.asset_id for a in inp["assets"]}
        orders = sorted(self._orders.list_orders(p), key=lambda o: o.id)
        gone = [
            o.transition(WorkOrderStatus.cancelled, now)
            for o in orders
            if o.status not in FINAL and o.asset_id in snap and snap[o.asset_id].retired
        ]
        mine = [o for o in orders if o.asset_id in planned]
        result = replan(
            mine,
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
        _unique_ids(result, len(mine), {o.id for o in orders})
        deferred: list[str] = []
        if commit:
            deferred = self._changed_meanwhile(p, orders, snap, planned)
            if deferred:  # their changes wait for the next plan, made from what they are now
                _drop(result, set(deferred))
            changed = set(result.created) | set(result.moved) | set(result.cancelled)
            self._orders.save_many(p, [o for o in result.orders if o.id in changed] + gone)
        return {
            "plan": result.plan.as_dict(),
            "created": result.created,
            "moved": result.moved,
            "cancelled": result.cancelled + [o.id for o in gone],
            "deferred": deferred,
            "committed": commit,
            "now": now.isoformat(),
        }

    def _changed_meanwhile(
        self, p: Principal, orders: list, snap: dict, planned: set[str]
    ) -> list[str]:
        """Assets whose orders or part changed while the plan was being made (a crew completed
        a job, a part failed and was repaired, someone moved an order): the plan's changes for
        them were made from a world that is gone. Written anyway they would overwrite a done
        order with a scheduled one, or order a second replacement of the part just fitted."""
        was = {o.id: (o.status, o.day, o.crew_id) for o in orders}
        out = set()
        for o in self._orders.list_orders(p):
            if was.get(o.id) != (o.status, o.day, o.crew_id):  # changed, or new meanwhile
                out.add(o.asset_id)
        fresh = self._registry.snapshot().assets
        out |= {a for a in planned if a in fresh and fresh[a].installed_at != snap[a].installed_at}
        return sorted(out & planned)


def _drop(result: Any, assets: set[str]) -> None:
    """Leave ``assets``' orders as they were: none created, moved or cancelled for them."""
    of = {o.id: o.asset_id for o in result.orders}
    for name in ("created", "moved", "cancelled"):
        setattr(result, name, [i for i in getattr(result, name) if of.get(i) not in assets])


def _unique_ids(result: Any, first_new: int, taken: set[str]) -> None:
    """New orders (``result.orders[first_new:]``) get ids no order has had: the planner numbers
    its jobs per plan (``WO-asset-day-n``), so a new job on the day of a done one would
    otherwise overwrite it (a completed replacement that showed as scheduled again)."""
    renames: dict[str, str] = {}
    used = set(taken)
    for i in range(first_new, len(result.orders)):
        o = result.orders[i]
        if o.id in used:
            k = 2
            while f"{o.id}-{k}" in used:
                k += 1
            renames[o.id] = f"{o.id}-{k}"
            result.orders[i] = o.model_copy(update={"id": renames[o.id]})
        used.add(result.orders[i].id)
    result.created = [renames.get(x, x) for x in result.created]
