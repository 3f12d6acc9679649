"""Calendars per customer site and per crew, with the jobs on their days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from prognos.domain import Principal
from prognos.domain.planning import (
    SiteCalendar,
    WorkOrder,
    WorkOrderStatus,
)
from prognos.errors import NotFound
from prognos.service.platform import Platform
from prognos.service.timeutil import as_utc
from prognos.web.views.names import Names

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
    known = any(c.id == customer_id for c in customers)
    if p.is_manufacturer and customer_id is not None and not known:
        raise NotFound(f"customer {customer_id!r} not found")
    start = start or datetime.now(UTC).date() - timedelta(days=7)
    start -= timedelta(days=start.weekday())  # weeks start on Monday
    day_list = [start + timedelta(days=i) for i in range(days)]
    end = day_list[-1]
    every = [o for o in platform.orders.list_orders(p) if o.status is not WorkOrderStatus.cancelled]
    orders = [o for o in every if start <= o.day <= end]
    all_sites = platform.registry.sites(p)
    if not p.is_manufacturer:
        customer_id = p.customer_id
    elif customer_id is None and customers:
        customer_id = _busiest(customers, all_sites, orders)
    sites = [s for s in all_sites if s.customer_id == customer_id]
    names = Names(platform, p)
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
                **_lanes([o for o in orders if o.site_id == s.id], start, days, names),
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
            {
                "crew": c,
                "days": [{"day": d, "jobs": by_day.get(d, [])} for d in day_list],
                **_lanes(mine, start, days, names),
            }
        )
    return {
        "customers": customers,
        "customer_id": customer_id,
        "start": start,
        "days": day_list,
        "sites": rows,
        "crews": crew_rows,
        "jobs": [o for o in orders if o.site_id in {s.id for s in sites}],
        "names": names,
        **_nearest(every, {s.id for s in sites}, start, end),
    }


def _nearest(orders: list[WorkOrder], sites: set[str], start: date, end: date) -> dict[str, Any]:
    """The customer's nearest jobs outside the period (``before``, ``after``): where an empty
    calendar sends its reader."""
    mine = [o for o in orders if o.site_id in sites]
    before = max((o for o in mine if o.day < start), key=lambda o: o.day, default=None)
    after = min((o for o in mine if o.day > end), key=lambda o: o.day, default=None)
    return {"before": before, "after": after}


def _busiest(customers: list, sites: list, orders: list[WorkOrder]) -> str:
    """The customer with the most jobs in the period (the first one when none has any): the
    manufacturer's calendar opens where there is something to see."""
    owner = {s.id: s.customer_id for s in sites}
    jobs: dict[str, int] = {}
    for o in orders:
        c = owner.get(o.site_id)
        if c is not None:
            jobs[c] = jobs.get(c, 0) + 1
    return max(customers, key=lambda c: (jobs.get(c.id, 0), -customers.index(c))).id


CHIP_DAY_PX, CHIP_CHAR_PX, CHIP_PAD_PX = 24, 6.2, 10  # a day column; the chips' small bold font


def _lanes(orders: list[WorkOrder], start: date, days: int, names: Names) -> dict[str, Any]:
    """Each job as a chip that starts on its day and is as wide as its asset's name, in the
    first lane where it overlaps no other chip: names stay readable on 24-pixel days."""
    ends: list[int] = []  # per lane, the first free column
    chips = []
    for o in sorted(orders, key=lambda o: (o.day, names.asset(o.asset_id), o.id)):
        col = (o.day - start).days
        label = names.asset(o.asset_id)
        want = -(-(len(label) * CHIP_CHAR_PX + CHIP_PAD_PX) // CHIP_DAY_PX)
        span = int(max(1, min(want, days - col)))
        lane = next((i for i, e in enumerate(ends) if e <= col), len(ends))
        if lane == len(ends):
            ends.append(0)
        ends[lane] = col + span
        chips.append({"order": o, "label": label, "col": col, "span": span, "lane": lane})
    return {"chips": chips, "lanes": max(len(ends), 1)}


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
    """The dominant kind of each of the site's local days: blackout > shutdown > stop > shift
    (production) > idle. Days are the site's own: a Shanghai shift from 06:00 local starts the
    day before in UTC, and must not make that local Sunday a production day."""
    tz = _zone(cal.timezone)
    tz_days = set(days)
    found: dict[date, set[str]] = {}
    for w in cal.windows:
        d = w.start.astimezone(tz).date()
        last = (w.end - timedelta(microseconds=1)).astimezone(tz).date()
        while d <= last:
            if d in tz_days:
                found.setdefault(d, set()).add(w.kind.value)
            d += timedelta(days=1)
    return {d: next(k for k in _DAY_KIND_ORDER if k in ks) for d, ks in found.items()}


def _zone(name: str | None) -> tzinfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC
