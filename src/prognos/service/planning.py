"""The plan: preventive replacements put into customers' windows with crews and parts.

The plan is made from the newest forecast of every asset that has a cost model and a calendar,
with open work orders committed (rolling re-planning: orders move, are created or cancelled
only by the rules of ``planning.replan``).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from prognos.domain import FailureForecast, Principal
from prognos.domain.planning import PlanAsset
from prognos.errors import ValidationFailed
from prognos.planning.replan import replan
from prognos.service.calendars import CalendarService
from prognos.service.registry import RegistryService
from prognos.service.resources import OWN, ResourceService
from prognos.service.timeutil import as_utc
from prognos.service.workorders import WorkOrderService
from prognos.store.ports import ForecastsPort

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


class PlanningService:
    def __init__(
        self,
        forecasts: ForecastsPort,
        registry: RegistryService,
        calendars: CalendarService,
        resources: ResourceService,
        orders: WorkOrderService,
    ):
        self._forecasts = forecasts
        self._registry = registry
        self._calendars = calendars
        self._resources = resources
        self._orders = orders

    def inputs(self, p: Principal) -> dict[str, Any]:
        """Everything the planner needs, as the platform knows it now."""
        p.require_manufacturer(OWN)
        sites = {s.id: s for s in self._registry.sites(p)}
        calendars = {c.site_id: c for c in self._calendars.list_calendars(p)}
        costs = self._resources.cost_models(p)
        forecasts = self._forecasts.latest_forecasts()
        down = self._down(p, forecasts)
        assets = []
        for a in self._registry.snapshot().assets.values():
            if (
                a.id in forecasts
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
            "forecasts": {a.key: in_operating_days(forecasts[a.asset_id]) for a in assets},
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

    def plan(
        self,
        p: Principal,
        *,
        horizon_days: int = 56,
        time_limit_s: float = 10.0,
        now: datetime | None = None,
        commit: bool = True,
    ) -> dict[str, Any]:
        """Plan (or re-plan) every asset; with ``commit`` the work orders are created, moved,
        cancelled."""
        p.require_manufacturer(OWN)
        now = now or datetime.now(UTC)
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
        result = replan(
            sorted(self._orders.list_orders(p), key=lambda o: o.id),
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
            changed = set(result.created) | set(result.moved) | set(result.cancelled)
            self._orders.save_many(p, [o for o in result.orders if o.id in changed])
        return {
            "plan": result.plan.as_dict(),
            "created": result.created,
            "moved": result.moved,
            "cancelled": result.cancelled,
            "committed": commit,
        }
