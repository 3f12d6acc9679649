"""Calendars per customer site and per crew, with the jobs on their days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from prognos.domain import Principal
from prognos.domain.planning import (
    SiteCalendar,
    WorkOrder,
    WorkOrderStatus,
)
from prognos.errors import NotFound
from prognos.service.platform import Platform
from prognos.service.timeutil import as_utc

# -- calendars -----------------------------------------------------------------------------------
_DAY_KIND_ORDER = ("blackout", "shutdown", "stop", "shift")


def calendar_view(
    platform: Platform,
    p: Principal,
    customer_id: str | None = None,
    start: date | None = None,
    days: int = 42,
) -> dict[str, Any]:
    """Per site of one customer: what each day is (production, stop, ...) and the jobs in it;
    per crew: its jobs on the same days (a customer sees only its own jobs)."""
    customers = platform.registry.customers(p)
    if not p.is_manufacturer:
        customer_id = p.customer_id
    elif customer_id is None and customers:
        customer_id = customers[0].id
    if customer_id is not None and not any(c.id == customer_id for c in customers):
        raise NotFound(f"customer {customer_id!r} not found")
    start = start or datetime.now(UTC).date() - timedelta(days=7)
    start -= timedelta(days=start.weekday())  # weeks start on Monday
    day_list = [start + timedelta(days=i) for i in range(days)]
    end = day_list[-1]
    orders = [
        o
        for o in platform.orders.list_orders(p)
        if start <= o.day <= end and o.status is not WorkOrderStatus.cancelled
    ]
    sites = [s for s in platform.registry.sites(p) if s.customer_id == customer_id]
    rows = []
    lo = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    hi = datetime.combine(end, datetime.min.time(), tzinfo=UTC) + timedelta(days=1)
    for s in sites:
        cal = _calendar_between(platform.calendars.raw(p, s.id), lo, hi)
        kinds = _day_kinds(cal, day_list) if cal else {}
        jobs: dict[date, list[WorkOrder]] = {}
        for o in orders:
            if o.site_id == s.id:
                jobs.setdefault(o.day, []).append(o)
        rows.append(
            {
                "site": s,
                "has_calendar": cal is not None,
                "days": [
                    {
                        "day": d,
                        "kind": kinds.get(d, "idle" if cal else "none"),
                        "jobs": jobs.get(d, []),
                    }
                    for d in day_list
                ],
            }
        )
    crews = platform.resources.crews(p)
    crew_rows = []
    for c in crews:
        mine = [o for o in orders if o.crew_id == c.id]
        if not p.is_manufacturer and not mine:
            continue
        by_day: dict[date, list[WorkOrder]] = {}
        for o in mine:
            by_day.setdefault(o.day, []).append(o)
        crew_rows.append(
            {"crew": c, "days": [{"day": d, "jobs": by_day.get(d, [])} for d in day_list]}
        )
    return {
        "customers": customers,
        "customer_id": customer_id,
        "start": start,
        "days": day_list,
        "sites": rows,
        "crews": crew_rows,
        "jobs": [o for o in orders if o.site_id in {s.id for s in sites}],
    }


def _calendar_between(doc: dict | None, lo: datetime, hi: datetime) -> SiteCalendar | None:
    """The calendar with only the windows that touch [lo, hi): a year of shifts is validated
    in milliseconds, not tens of them."""
    if doc is None:
        return None
    windows = [
        w for w in doc.get("windows", []) if as_utc(w["start"]) < hi and as_utc(w["end"]) > lo
    ]
    return SiteCalendar.model_validate({**doc, "windows": windows})


def _day_kinds(cal: SiteCalendar, days: list[date]) -> dict[date, str]:
    """The dominant kind of each day: blackout > shutdown > stop > shift (production) > idle."""
    tz_days = set(days)
    found: dict[date, set[str]] = {}
    for w in cal.windows:
        d = w.start.date()
        while d <= (w.end - timedelta(microseconds=1)).date():
            if d in tz_days:
                found.setdefault(d, set()).add(w.kind.value)
            d += timedelta(days=1)
    return {d: next(k for k in _DAY_KIND_ORDER if k in ks) for d, ks in found.items()}
