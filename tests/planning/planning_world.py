"""Small worlds whose best plans can be worked out by hand.

One site runs every day 06:00-22:00 (one cycle a day) except planned stops; "today" is Monday
2026-01-05, so day d of the horizon is 2026-01-05 + d and ``d`` stops before it cost ``d`` cycles.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from prognos.domain.forecast import FailureForecast
from prognos.domain.planning import CostModel, Crew, PlanAsset, SiteCalendar, Window

NOW = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)


def calendar(stop_days=(9, 16), blackout_days=(), n_days=60, site="s1") -> SiteCalendar:
    ws = []
    for d in range(n_days):
        day = NOW + timedelta(days=d)
        kind = "stop" if d in stop_days else None
        ws.append(
            Window(start=day + timedelta(hours=6), end=day + timedelta(hours=22), kind="shift")
        )
        if kind:
            ws.append(Window(start=day, end=day + timedelta(days=1), kind=kind))
        if d in blackout_days:
            ws.append(Window(start=day, end=day + timedelta(days=1), kind="blackout"))
    return SiteCalendar(site_id=site, windows=ws)


def forecast(key: str, lo: float, mid: float, hi: float) -> FailureForecast:
    """Failure almost surely between ``lo`` and ``hi`` cycles (1 % and 99 % quantiles)."""
    return FailureForecast.from_quantiles(key, NOW, {0.01: lo, 0.5: mid, 0.99: hi})


def cost_model(wasted: float = 1000.0) -> CostModel:
    # failure: 10 h x 9,000/h + 10,000 part = 100,000; planned in a window: 10,000
    return CostModel(
        asset_type="pump",
        part="P1",
        unplanned_stoppage_cost_per_hour=9000.0,
        unplanned_repair_hours=10.0,
        planned_job_hours=4.0,
        part_cost=10000.0,
        labour_cost_per_hour=0.0,
        wasted_life_cost_per_unit=wasted,
    )


def asset(aid: str, site: str = "s1", region: str = "r1") -> PlanAsset:
    return PlanAsset(asset_id=aid, site_id=site, region=region, asset_type="pump")


def crew(cid: str = "c1", hours: float = 10.0, callout: float = 0.0, skills=("pump",)) -> Crew:
    return Crew(
        id=cid,
        skills=set(skills),
        home_region="r1",
        hours_per_day=hours,
        working_weekdays={0, 1, 2, 3, 4, 5, 6},
        cost_per_hour=0.0,
        callout_cost=callout,
    )


@pytest.fixture
def today() -> date:
    return NOW.date()
