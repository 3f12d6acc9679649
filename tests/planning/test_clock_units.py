"""A forecast in cycles counts production days; one in hours or days counts the clock.

A line that stands still does not cycle, but a chain or an elevator door roller ages on idle
days too (the platform counts a part's age in wall-clock time, ``TimeUnit.seconds``): the
planner must read "fails in 12 days" as 12 days of the calendar, not 12 production days.
"""

from __future__ import annotations

from datetime import timedelta

from planning_world import NOW, asset, cost_model, crew

from prognos.domain.forecast import FailureForecast
from prognos.domain.planning import SiteCalendar, Window
from prognos.planning.optimizer import plan


def every_other_day_calendar(n_days: int = 60) -> SiteCalendar:
    """Production (two shifts) on even days only; the odd days are open for maintenance."""
    ws = [
        Window(
            start=NOW + timedelta(days=d, hours=6), end=NOW + timedelta(days=d, hours=22),
            kind="shift",
        )
        for d in range(0, n_days, 2)
    ]  # fmt: skip
    return SiteCalendar(site_id="s1", windows=ws)


def planned_day(unit: str, lo: float, mid: float, hi: float) -> int:
    f = FailureForecast.from_quantiles("a", NOW, {0.01: lo, 0.5: mid, 0.99: hi})
    f = FailureForecast("a", NOW, f.levels, f.values, unit)
    p = plan(
        {"a": f},
        [asset("a")],
        {"s1": every_other_day_calendar()},
        [crew()],
        (),
        {"pump": cost_model(wasted=100.0)},
        now=NOW,
        horizon_days=35,
        time_limit_s=5.0,
    )
    assert len(p.jobs) == 1
    return (p.jobs[0].day - NOW.date()).days


def test_a_forecast_in_days_is_planned_before_that_many_calendar_days():
    # fails between 11 and 13 days from now: the job comes on an idle day before day 11
    assert planned_day("days", 11, 12, 13) <= 11


def test_a_forecast_in_hours_counts_all_24_hours_of_each_day():
    assert planned_day("hours", 11 * 24, 12 * 24, 13 * 24) <= 11


def test_a_forecast_in_cycles_counts_production_days_only():
    # 11 cycles take 22 calendar days when every other day produces
    assert 18 <= planned_day("cycles", 11, 12, 13) <= 22
