"""The calendar page labels each site's own local days (a Shanghai shift that starts on Sunday
in UTC is Monday's production, not Sunday's)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from prognos.domain.planning import SiteCalendar, Window
from prognos.web.views.calendar import _day_kinds


def test_days_are_the_sites_local_days():
    monday = date(2026, 11, 30)
    # Monday 06:00-14:00 in Shanghai is Sunday 22:00 to Monday 06:00 in UTC
    shift = Window(
        kind="shift",
        start=datetime(2026, 11, 29, 22, tzinfo=UTC),
        end=datetime(2026, 11, 30, 6, tzinfo=UTC),
    )
    # a planned stop on local Tuesday 08:00-18:00
    stop = Window(
        kind="stop",
        start=datetime(2026, 12, 1, 0, tzinfo=UTC),
        end=datetime(2026, 12, 1, 10, tzinfo=UTC),
    )
    cal = SiteCalendar(site_id="jingan", timezone="Asia/Shanghai", windows=[shift, stop])
    days = [monday - timedelta(days=1) + timedelta(days=i) for i in range(3)]
    kinds = _day_kinds(cal, days)
    assert kinds == {monday: "shift", monday + timedelta(days=1): "stop"}  # Sunday stays idle
