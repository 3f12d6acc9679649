"""Day boundaries are the site's own: a site far from UTC plans in its local days.

The planner's day ``d`` is a local date at each site, and "today" is the site's date at the
moment of planning, not the UTC date. A site ten hours behind UTC (Honolulu) whose only window
is a stop tomorrow (local time), and a site eight hours ahead (Shanghai), planned at a moment
when their local dates differ from UTC's: every job lands in the stop.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from planning_world import cost_model, crew, forecast

from prognos.domain.planning import PlanAsset, SiteCalendar, Window
from prognos.planning.optimizer import local_dates, plan


def local_calendar(tz: str, stop: date, first: date, n_days: int = 40) -> SiteCalendar:
    """Production 06:00-22:00 local time every day, except a whole local day of planned stop."""
    zone, ws = ZoneInfo(tz), []
    for d in range(n_days):
        day = first + timedelta(days=d)
        t0 = datetime(day.year, day.month, day.day, tzinfo=zone)
        if day == stop:
            ws.append(Window(start=t0, end=t0 + timedelta(days=1), kind="stop"))
        else:
            ws.append(
                Window(start=t0 + timedelta(hours=6), end=t0 + timedelta(hours=22), kind="shift")
            )
    return SiteCalendar(site_id="far", timezone=tz, windows=ws)


CASES = [
    # (time zone, planning moment in UTC, the stop's local date)
    (
        "Pacific/Honolulu",
        datetime(2026, 1, 6, 4, 0, tzinfo=UTC),
        date(2026, 1, 6),
    ),  # local: 5th, 18:00
    (
        "Asia/Shanghai",
        datetime(2026, 1, 5, 20, 0, tzinfo=UTC),
        date(2026, 1, 8),
    ),  # local: 6th, 04:00
]


@pytest.mark.parametrize(("tz", "now", "stop"), CASES)
def test_every_job_lands_in_the_local_stop(tz, now, stop):
    cal = local_calendar(tz, stop, date(2026, 1, 1))
    assets = [
        PlanAsset(asset_id=f"a{k}", site_id="far", region="r1", asset_type="pump") for k in range(3)
    ]
    # all three are sure to fail within a few weeks: each is worth a job, and only the stop is open
    fcs = {a.key: forecast(a.key, 6, 8, 10) for a in assets}
    p = plan(fcs, assets, {"far": cal}, [crew(hours=14)], [], {"pump": cost_model()},
             now=now, horizon_days=14, time_limit_s=5, emergency_days=0)  # fmt: skip
    assert len(p.jobs) == 3
    assert {(j.day, j.in_window) for j in p.jobs} == {(stop, True)}


def test_each_site_counts_from_its_own_date():
    now = datetime(2026, 1, 5, 20, 0, tzinfo=UTC)
    cals = {
        "sh": SiteCalendar(site_id="sh", timezone="Asia/Shanghai"),
        "hnl": SiteCalendar(site_id="hnl", timezone="Pacific/Honolulu"),
        "ldn": SiteCalendar(site_id="ldn", timezone="Europe/London"),
    }
    day0, local = local_dates(cals, now)
    assert local == {"sh": date(2026, 1, 6), "hnl": date(2026, 1, 5), "ldn": date(2026, 1, 5)}
    assert day0 == date(2026, 1, 5)
