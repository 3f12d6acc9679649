"""View models for the control panel: what each page shows, computed where it is cheap.

The fleet page joins assets with their latest health, latest forecast, next planned job and open
alarms in one SQL statement per question (page, summary), so paging, sorting and filtering stay
in the database and 10,000 assets cost milliseconds. Work orders, calendars, crews and alarms
are the store's generic documents (kinds below); their bodies are the planning domain's models
dumped as JSON, so the planner and this module read and write the same shapes:

    kind        id            body                                   customer_id  asset_id  status
    workorder   order id      WorkOrder.model_dump(mode="json")      yes          yes       status
    calendar    site id       SiteCalendar.model_dump(mode="json")   yes          -         -
    crew        crew id       Crew.model_dump(mode="json")           -            -         -
    alarm       alarm id      see ``raise_alarm``                     yes          yes       open|silenced|acknowledged

Every query takes the calling ``Principal``: a customer sees only what it owns.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from prognos.domain import FailureForecast, Principal, TimeUnit
from prognos.domain.planning import (
    Crew,
    Finding,
    SiteCalendar,
    WindowKind,
    WorkOrder,
    WorkOrderStatus,
)
from prognos.errors import NotFound, ValidationFailed
from prognos.service import maintenance
from prognos.service.platform import Platform

WORKORDER, CALENDAR, CREW, ALARM = "workorder", "calendar", "crew", "alarm"
PLANNED = ("scheduled", "dispatched", "in_progress")
GOOD, WATCH = 70.0, 40.0  # health score bands: good >= 70 > watch >= 40 > critical
SOON_DAYS, LATER_DAYS = 30, 90  # RUL histogram colours: fails within a month, a quarter

# The panel's three work-order buttons and the lifecycle moves they make.
ACTIONS = {"dispatch": WorkOrderStatus.dispatched, "start": WorkOrderStatus.in_progress}


def band(score: float | None) -> str:
    """Health band of a 0-100 score: good, watch, critical, or unknown."""
    if score is None:
        return "unknown"
    return "good" if score >= GOOD else "watch" if score >= WATCH else "critical"


def _rows(platform: Platform, sql: str, params: list | tuple = ()) -> list[tuple]:
    # Both stores share one SQL body with a ``_rows`` helper that translates placeholders;
    # the fleet joins are one statement there instead of 10,000 objects here.
    return platform.store._rows(sql, list(params))  # type: ignore[attr-defined]


def _utc(t: Any) -> datetime | None:
    if t is None:
        return None
    if isinstance(t, str):
        t = datetime.fromisoformat(t)
    if not isinstance(t, datetime):
        t = t.to_pydatetime()
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _day(v: Any) -> date | None:
    if v is None or isinstance(v, date) and not isinstance(v, datetime):
        return v
    if isinstance(v, datetime):
        return v.date()
    return date.fromisoformat(str(v)[:10])


# -- fleet ---------------------------------------------------------------------------------------
SORTS = {
    "rul": "p50_days",
    "health": "health",
    "next_service": "next_service",
    "alarms": "alarms",
    "id": "id",
    "customer": "customer_id",
    "site": "site_id",
    "type": "type_id",
}


@dataclass
class FleetQuery:
    """Filters, sort and page of the fleet table (all optional)."""

    customer: str | None = None
    site: str | None = None
    type: str | None = None
    q: str | None = None
    band: str | None = None
    sort: str = "rul"
    desc: bool = False
    page: int = 1
    size: int = 50

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise ValidationFailed(
                f"cannot sort the fleet by {self.sort!r}", hint=f"use one of {', '.join(SORTS)}"
            )
        self.page = max(int(self.page), 1)
        self.size = min(max(int(self.size), 1), 500)
        for name in ("customer", "site", "type", "q", "band"):
            if getattr(self, name) == "":
                setattr(self, name, None)


@dataclass
class FleetPage:
    rows: list[dict[str, Any]]
    total: int
    query: FleetQuery
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max((self.total + self.query.size - 1) // self.query.size, 1)


# Only plain columns are touched for every asset; the JSON bodies of forecasts are read for
# the rows of one page. The newest forecast and health of each asset are found by grouping
# (max as_of) and joining back, which stays cheap as daily refreshes pile up history (a window
# over every stored forecast cost 4.5 times the CPU at 30 forecasts per asset). ``{days}`` converts each type's time unit to days for sorting and the
# histogram (a cycle is an operating day, ``TimeUnit``).
_FLEET_CTE = """
WITH a AS (
    SELECT id, customer_id, site_id, type_id, serial, model FROM assets WHERE {where}
), fl AS (
    SELECT asset_id, max(as_of) AS as_of FROM forecasts GROUP BY asset_id
), f AS (
    SELECT fc.asset_id, fc.component, fc.as_of, fc.model, fc.p50,
           row_number() OVER (PARTITION BY fc.asset_id ORDER BY fc.p50, fc.component, fc.model)
               AS rn
    FROM forecasts fc JOIN fl ON fc.asset_id = fl.asset_id AND fc.as_of = fl.as_of
), h AS (
    SELECT hs.asset_id, hs.score, 1 AS rn
    FROM health hs JOIN (SELECT asset_id, max(as_of) AS as_of FROM health GROUP BY asset_id) hl
         ON hs.asset_id = hl.asset_id AND hs.as_of = hl.as_of
), w AS (
    SELECT asset_id, min(CAST(body->>'day' AS DATE)) AS next_service FROM documents
    WHERE kind = 'workorder' AND status IN ('scheduled', 'dispatched', 'in_progress')
    GROUP BY asset_id
), al AS (
    SELECT asset_id, count(*) AS alarms FROM documents
    WHERE kind = 'alarm' AND status = 'open' GROUP BY asset_id
), rows AS (
    SELECT a.id, a.customer_id, a.site_id, a.type_id, a.serial, a.model,
           h.score AS health, f.p50, f.p50 * {days} AS p50_days,
           f.component AS fc_component, f.as_of AS fc_as_of, f.model AS fc_model,
           w.next_service, coalesce(al.alarms, 0) AS alarms
    FROM a
    LEFT JOIN f ON f.asset_id = a.id AND f.rn = 1
    LEFT JOIN h ON h.asset_id = a.id AND h.rn = 1
    LEFT JOIN w ON w.asset_id = a.id
    LEFT JOIN al ON al.asset_id = a.id
    {band}
)
"""
# One statement answers the page and the summary, so the CTE runs once. Its rows are of three
# kinds: 'p' the page's rows (forecast bodies read for these only), 's' one row of counts
# (assets, bands, open alarms, jobs in 30 days, largest RUL), 'h' the RUL histogram in days
# with a bin width of 1, 2 or 5 times a power of ten (about ``bins`` bins).
_PAGE_SQL = """
{cte}, page AS (
    SELECT * FROM rows ORDER BY {order} {direction} NULLS LAST, id LIMIT {limit} OFFSET {offset}
), stats AS (
    SELECT count(*) AS n,
           sum(CASE WHEN health >= 70 THEN 1 ELSE 0 END) AS good,
           sum(CASE WHEN health >= 40 AND health < 70 THEN 1 ELSE 0 END) AS watch,
           sum(CASE WHEN health < 40 THEN 1 ELSE 0 END) AS critical,
           sum(alarms) AS alarms,
           sum(CASE WHEN next_service <= ? THEN 1 ELSE 0 END) AS jobs,
           max(p50_days) AS top
    FROM rows
), width AS (
    SELECT CASE WHEN top IS NULL OR top <= 0 THEN 1.0
                ELSE e * (CASE WHEN r <= e THEN 1 WHEN r <= 2 * e THEN 2
                               WHEN r <= 5 * e THEN 5 ELSE 10 END) END AS w
    FROM (SELECT top, top / {bins} AS r,
                 power(10.0, floor(log10(greatest(top / {bins}, 1e-9)))) AS e FROM stats) x
)
SELECT 'p' AS kind, page.id, page.customer_id, page.site_id, page.type_id, page.serial,
       page.model, page.health, CAST(fb.body->>'p10' AS DOUBLE PRECISION) AS p10, page.p50,
       CAST(fb.body->>'p90' AS DOUBLE PRECISION) AS p90, fb.body->>'time_unit' AS time_unit,
       page.fc_as_of, page.next_service, page.alarms, page.p50_days,
       CAST(NULL AS DOUBLE PRECISION) AS extra
FROM page LEFT JOIN forecasts fb ON fb.asset_id = page.id AND fb.component = page.fc_component
     AND fb.as_of = page.fc_as_of AND fb.model = page.fc_model
UNION ALL
SELECT 's', NULL, NULL, NULL, NULL, NULL, NULL, CAST(n AS DOUBLE PRECISION),
       CAST(good AS DOUBLE PRECISION), CAST(watch AS DOUBLE PRECISION),
       CAST(critical AS DOUBLE PRECISION), NULL, NULL, NULL, CAST(alarms AS BIGINT), top,
       CAST(jobs AS DOUBLE PRECISION)
FROM stats
UNION ALL
SELECT 'h', NULL, NULL, NULL, NULL, NULL, NULL, NULL, b, CAST(c AS DOUBLE PRECISION), w,
       NULL, NULL, NULL, NULL, NULL, NULL
FROM (SELECT floor(p50_days / (SELECT w FROM width)) AS b, count(*) AS c FROM rows
      WHERE p50_days IS NOT NULL GROUP BY floor(p50_days / (SELECT w FROM width))) hb,
     width
"""
_BAND_SQL = {
    "good": "WHERE h.score >= 70",
    "watch": "WHERE h.score >= 40 AND h.score < 70",
    "critical": "WHERE h.score < 40",
    "unknown": "WHERE h.score IS NULL",
}
_ROW_COLS = [
    "id",
    "customer_id",
    "site_id",
    "type_id",
    "serial",
    "model",
    "health",
    "p10",
    "p50",
    "p90",
    "time_unit",
    "as_of",
    "next_service",
    "alarms",
]


def _days_sql(platform: Platform) -> str:
    """``CASE type_id ...`` giving days per time unit of each asset type (1 when unknown)."""
    factors = {
        t.id: TimeUnit(t.time_unit).seconds / 86400.0 for t in platform.registry().types.values()
    }
    whens = [
        f"WHEN '{tid}' THEN {f!r}" for tid, f in factors.items() if f != 1.0 and "'" not in tid
    ]
    return f"(CASE a.type_id {' '.join(whens)} ELSE 1.0 END)" if whens else "1.0"


def _fleet_cte(platform: Platform, p: Principal, q: FleetQuery) -> tuple[str, list[Any]]:
    where, params = ["parent_id IS NULL"], []
    customer = q.customer if p.is_manufacturer else p.customer_id
    if not p.is_manufacturer and q.customer not in (None, p.customer_id):
        where.append("1 = 0")
    for col, val in (("customer_id", customer), ("site_id", q.site), ("type_id", q.type)):
        if val is not None:
            where.append(f"{col} = ?")
            params.append(val)
    if q.q:
        where.append("(lower(id) LIKE ? OR lower(serial) LIKE ? OR lower(model) LIKE ?)")
        params += [f"%{q.q.lower()}%"] * 3
    cte = _FLEET_CTE.format(
        where=" AND ".join(where), band=_BAND_SQL.get(q.band or "", ""), days=_days_sql(platform)
    )
    return cte, params


def fleet(
    platform: Platform, p: Principal, q: FleetQuery, today: date | None = None, bins: int = 20
) -> FleetPage:
    """One page of the fleet table and a summary of every asset the filters select."""
    cte, params = _fleet_cte(platform, p, q)
    sql = _PAGE_SQL.format(
        cte=cte,
        order=SORTS[q.sort],
        direction="DESC" if q.desc else "ASC",
        limit=q.size,
        offset=(q.page - 1) * q.size,
        bins=f"{float(bins)!r}",
    )
    today = today or datetime.now(UTC).date()
    rows, stats, hist = [], None, []
    for r in _rows(platform, sql, [*params, today + timedelta(days=30)]):
        if r[0] == "p":
            d = dict(zip(_ROW_COLS, r[1:15], strict=True))
            d["band"] = band(d["health"])
            d["next_service"] = _day(d["next_service"])
            d["as_of"] = _utc(d["as_of"])
            d["p50_days"] = r[15]
            rows.append(d)
        elif r[0] == "s":
            stats = r
        else:
            hist.append((int(r[8]), int(r[9]), float(r[10])))
    rows.sort(key=_page_order(q))
    summary = _summary(stats, hist)
    return FleetPage(rows, summary["assets"], q, summary)


def _summary(stats: tuple | None, hist: list[tuple[int, int, float]]) -> dict[str, Any]:
    """Counts per health band, open alarms, jobs in 30 days, the RUL P50 histogram in days
    (a cycle is an operating day, so a mixed fleet shares one axis)."""
    n = int(stats[7] or 0) if stats else 0
    bands = {
        k: int(stats[i] or 0) if stats else 0
        for k, i in (("good", 8), ("watch", 9), ("critical", 10))
    }
    bands["unknown"] = n - sum(bands.values())
    bars: list[dict[str, Any]] = []
    if hist:
        counts = {b: c for b, c, _ in hist}
        width = hist[0][2]
        for b in range(max(counts) + 1):
            top = (b + 1) * width
            urgency = "soon" if top <= SOON_DAYS else "later" if top <= LATER_DAYS else ""
            bars.append({"lo": b * width, "hi": top, "n": counts.get(b, 0), "urgency": urgency})
    return {
        "assets": n,
        "bands": bands,
        "open_alarms": int(stats[14] or 0) if stats else 0,
        "jobs_30d": int(stats[16] or 0) if stats else 0,
        "forecasts": sum(c for _, c, _ in hist),
        "time_unit": "days",
        "rul_hist": bars,
    }


def _page_order(q: FleetQuery):
    """The page's order again in Python (a UNION does not keep it): NULLS LAST, then id."""
    col = SORTS[q.sort]

    def key(r: dict[str, Any]):
        v = r[col]
        if isinstance(v, int | float) and q.desc:
            v = -v
        return (v is None, v if not q.desc or isinstance(v, int | float) else _Rev(v), r["id"])

    return key


class _Rev:
    """Reverses the order of a string or date inside a sort key."""

    def __init__(self, v: Any):
        self.v = v

    def __lt__(self, other: _Rev) -> bool:
        return self.v > other.v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Rev) and self.v == other.v


def filter_options(platform: Platform, p: Principal) -> dict[str, list[tuple[str, str]]]:
    """Customers, sites and asset types the caller may filter by, as (id, label)."""
    return {
        "customers": [(c.id, c.name) for c in platform.list_customers(p)],
        "sites": [(s.id, s.name) for s in platform.list_sites(p)],
        "types": sorted((t.id, t.name or t.id) for t in platform.registry().types.values()),
    }


# -- one asset -----------------------------------------------------------------------------------
def _forecast_dict(fc: FailureForecast | None) -> dict[str, Any] | None:
    if fc is None:
        return None
    return {
        "as_of": fc.as_of,
        "p10": fc.p10,
        "p50": fc.p50,
        "p90": fc.p90,
        "time_unit": fc.time_unit,
        "model": fc.model,
        "model_version": fc.model_version,
        "component": fc.component,
    }


def asset_view(platform: Platform, p: Principal, asset_id: str) -> dict[str, Any]:
    """Everything the asset page shows around its charts."""
    a = platform.get_asset(p, asset_id)
    t = platform.asset_type(a.type_id)
    store = platform.store
    health = store.latest_health(asset_id)
    fc = store.latest_forecast(asset_id)
    comp_rows = _rows(
        platform,
        "SELECT id, type_id, serial, model FROM assets WHERE parent_id = ? ORDER BY id",
        [asset_id],
    )
    comp_ids = [r[0] for r in comp_rows]
    comp_fc = store.latest_forecasts(comp_ids) if comp_ids else {}
    comp_h = store.latest_healths(comp_ids) if comp_ids else {}
    components = [
        {
            "id": cid,
            "type_id": ty,
            "serial": serial,
            "model": model,
            "health": comp_h[cid].score if cid in comp_h else None,
            "band": band(comp_h[cid].score if cid in comp_h else None),
            "forecast": _forecast_dict(comp_fc.get(cid)),
        }
        for cid, ty, serial, model in comp_rows
    ]
    orders = sorted(
        (WorkOrder.model_validate(d) for d in store.list_documents(WORKORDER, asset_id=asset_id)),
        key=lambda o: (o.day, o.id),
        reverse=True,
    )
    upcoming = [o for o in orders if o.status in PLANNED]
    alarms = sorted(
        store.list_documents(ALARM, asset_id=asset_id), key=lambda d: d["raised_at"], reverse=True
    )
    anomalies = sorted((health.anomalies if health else {}).items(), key=lambda kv: -abs(kv[1]))
    drivers = sorted((health.drivers if health else {}).items(), key=lambda kv: -abs(kv[1]))
    channels = t.channel_names
    preferred = [c for c, _ in anomalies + drivers if c in channels]
    default = list(dict.fromkeys(preferred + channels))[:4]
    site = store.get_site(a.site_id)
    customer = store.get_customer(a.customer_id)
    return {
        "asset": a,
        "type": t,
        "site": site,
        "customer": customer,
        "health": health,
        "band": band(health.score if health else None),
        "forecast": _forecast_dict(fc),
        "components": components,
        "orders": orders,
        "next_order": min(upcoming, key=lambda o: o.day) if upcoming else None,
        "alarms": alarms,
        "anomalies": anomalies,
        "drivers": drivers,
        "channels": channels,
        "default_channels": default,
    }


def forecast_chart(
    platform: Platform, p: Principal, asset_id: str, history: int = 90, points: int = 80
) -> dict[str, Any]:
    """The RUL fan (quantiles of each stored forecast over time) and the latest failure curve.

    The curve is P(failure before t) of the latest forecast on a grid up to its tail; the next
    planned job, when there is one, is placed on it with the probability of failing first.
    """
    a = platform.get_asset(p, asset_id)
    bodies = _forecast_bodies(platform, asset_id, history)
    if not bodies:
        return {"asset_id": asset_id, "fan": [], "curve": None, "time_unit": None}
    fan = [{"as_of": b["as_of"], "q": _fan_quantiles(b)} for b in bodies]
    last = FailureForecast.from_dict(bodies[-1])
    unit_s = TimeUnit(last.time_unit).seconds if last.time_unit in TimeUnit.__members__ else 86400.0
    top = max(last.quantile(0.99), 1e-6)
    t = np.linspace(0.0, top, points)
    cdf = np.asarray(last.cdf(t), dtype=float)
    job = None
    orders = [
        WorkOrder.model_validate(d)
        for d in platform.store.list_documents(WORKORDER, asset_id=a.id)
        if d.get("status") in PLANNED
    ]
    if orders:
        o = min(orders, key=lambda o: o.day)
        at = datetime.combine(o.day, datetime.min.time(), tzinfo=UTC)
        units = max((at - last.as_of).total_seconds() / unit_s, 0.0)
        job = {
            "id": o.id,
            "day": o.day.isoformat(),
            "t": round(units, 4),
            "prob": round(float(last.prob_fail_before(units)), 4),
        }
    return {
        "asset_id": asset_id,
        "time_unit": last.time_unit,
        "unit_seconds": unit_s,
        "as_of": last.as_of.isoformat(),
        "fan": fan,
        "curve": {"t": np.round(t, 4).tolist(), "p": np.round(cdf, 5).tolist()},
        "job": job,
        "p10": last.p10,
        "p50": last.p50,
        "p90": last.p90,
    }


FAN_LEVELS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)


def _forecast_bodies(platform: Platform, asset_id: str, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` stored forecasts of the asset itself (else of its components), oldest
    first, as their JSON bodies: a fan of 90 needs no 90 distribution objects."""
    sql = "SELECT body FROM forecasts WHERE asset_id = ?{} ORDER BY as_of DESC, created_at DESC"
    for extra in (" AND component = ''", ""):
        rows = _rows(platform, sql.format(extra) + f" LIMIT {int(limit)}", [asset_id])
        if rows:
            return [json.loads(r[0]) if isinstance(r[0], str | bytes) else r[0] for r in rows][::-1]
    return []


def _fan_quantiles(body: dict[str, Any]) -> dict[str, float]:
    """The fan's quantiles: the stored ones where the model reported them, else interpolated."""
    stored = {round(float(k), 6): float(v) for k, v in body["quantiles"].items()}
    if all(lv in stored for lv in FAN_LEVELS):
        return {f"{lv:g}": round(stored[lv], 4) for lv in FAN_LEVELS}
    f = FailureForecast.from_dict(body)
    return {f"{lv:g}": round(f.quantile(lv), 4) for lv in FAN_LEVELS}


def latest_forecast_stamp(platform: Platform, asset_id: str) -> str | None:
    """When the newest forecast of an asset was made (for live pages to notice a refresh)."""
    r = _rows(
        platform,
        "SELECT max(as_of), max(created_at) FROM forecasts WHERE asset_id = ?",
        [asset_id],
    )
    return None if r[0][0] is None else f"{r[0][0]}|{r[0][1]}"


# -- work orders -------------------------------------------------------------------------------
# The lifecycle, its tenancy and the feedback of findings live in ``service.maintenance`` (the
# API's PATCH goes there too); the panel adds its policy: the manufacturer's service team moves
# orders, customers watch.
def save_order(platform: Platform, o: WorkOrder, customer_id: str | None = None) -> WorkOrder:
    """Store a work order as the document the panel and the planner share."""
    if customer_id is None:
        a = platform.store.get_asset(o.asset_id)
        if a is None:
            raise NotFound(f"work order {o.id}: asset {o.asset_id!r} does not exist")
        customer_id = a.customer_id
    platform.store.put_document(
        WORKORDER,
        o.id,
        o.model_dump(mode="json"),
        customer_id=customer_id,
        asset_id=o.asset_id,
        status=o.status.value,
    )
    return o


def get_order(platform: Platform, p: Principal, order_id: str) -> WorkOrder:
    return maintenance.get_order(platform, p, order_id)


def list_orders(
    platform: Platform, p: Principal, status: str | None = None, asset_id: str | None = None
) -> list[WorkOrder]:
    """Work orders the caller may see, soonest first (done and cancelled last)."""
    orders = maintenance.list_orders(platform, p, status=status or None, asset_id=asset_id)
    final = {WorkOrderStatus.done, WorkOrderStatus.cancelled}
    return sorted(orders, key=lambda o: (o.status in final, o.day, o.id))


def transition_order(platform: Platform, p: Principal, order_id: str, action: str) -> WorkOrder:
    """Dispatch or start an order."""
    platform.require_manufacturer(p)
    if action not in ACTIONS:
        raise ValidationFailed(f"unknown action {action!r}", hint=f"use {', '.join(ACTIONS)}")
    return maintenance.transition(platform, p, order_id, ACTIONS[action].value)


def complete_order(
    platform: Platform,
    p: Principal,
    order_id: str,
    condition: str = "",
    measured_wear: float | None = None,
    failure_found: bool = False,
    part_replaced: bool = True,
    at: datetime | None = None,
) -> WorkOrder:
    """Mark an order done with the crew's findings (they become a labelled event)."""
    platform.require_manufacturer(p)
    finding = Finding(
        condition=condition.strip(),
        measured_wear=measured_wear,
        failure_found=failure_found,
        part_replaced=part_replaced,
        at=at or datetime.now(UTC),
    )
    return maintenance.transition(platform, p, order_id, WorkOrderStatus.done.value, finding)


# -- alarms --------------------------------------------------------------------------------------
def maintenance_reason(platform: Platform, asset_id: str, at: datetime) -> str | None:
    """Why an alarm at ``at`` falls in a maintenance window, or None.

    A window is a job on the asset that day (dispatched or under way) or a planned stop or
    shutdown of the asset's site calendar: readings then reflect the work, not the machine.
    """
    a = platform.store.get_asset(asset_id)
    if a is None:
        raise NotFound(f"asset {asset_id!r} not found")
    for d in platform.store.list_documents(WORKORDER, asset_id=asset_id):
        if d.get("status") == "in_progress" or (
            d.get("status") == "dispatched" and _day(d.get("day")) == at.date()
        ):
            return f"work order {d['id']} ({d['status']})"
    cal_doc = platform.store.get_document(CALENDAR, a.site_id)
    if cal_doc:
        cal = SiteCalendar.model_validate(cal_doc)
        for w in cal.of_kind(WindowKind.stop, WindowKind.shutdown):
            if w.start <= at < w.end:
                return f"{w.kind.value} {w.label}".strip()
    return None


def raise_alarm(
    platform: Platform,
    asset_id: str,
    message: str,
    channels: dict[str, float] | None = None,
    severity: str = "warning",
    at: datetime | None = None,
    alarm_id: str | None = None,
) -> dict[str, Any]:
    """Store an alarm; inside a maintenance window it is stored silenced, with the reason."""
    at = _utc(at) or datetime.now(UTC)
    a = platform.store.get_asset(asset_id)
    if a is None:
        raise NotFound(f"asset {asset_id!r} not found")
    reason = maintenance_reason(platform, asset_id, at)
    doc = {
        "id": alarm_id or f"al-{uuid.uuid4().hex[:10]}",
        "asset_id": asset_id,
        "customer_id": a.customer_id,
        "raised_at": at.isoformat(),
        "severity": severity,
        "message": message,
        "channels": dict(channels or {}),
        "status": "silenced" if reason else "open",
        "silenced_because": reason,
        "acked_at": None,
        "acked_by": None,
    }
    platform.store.put_document(
        ALARM, doc["id"], doc, customer_id=a.customer_id, asset_id=asset_id, status=doc["status"]
    )
    return doc


def list_alarms(platform: Platform, p: Principal, status: str | None = "open") -> list[dict]:
    docs = platform.store.list_documents(
        ALARM, customer_id=None if p.is_manufacturer else p.customer_id, status=status or None
    )
    return sorted(docs, key=lambda d: d["raised_at"], reverse=True)


def alarm_counts(platform: Platform, p: Principal) -> dict[str, int]:
    sql = "SELECT status, count(*) FROM documents WHERE kind = 'alarm'"
    params: list[Any] = []
    if not p.is_manufacturer:
        sql += " AND customer_id = ?"
        params.append(p.customer_id)
    return {s: int(n) for s, n in _rows(platform, sql + " GROUP BY status", params)}


def acknowledge_alarm(
    platform: Platform, p: Principal, alarm_id: str, at: datetime | None = None
) -> dict[str, Any]:
    """Acknowledge an open (or silenced) alarm; the owner or the manufacturer may."""
    d = platform.store.get_document(ALARM, alarm_id)
    if d is None or not p.may_see(d["customer_id"]):
        raise NotFound(f"alarm {alarm_id!r} not found")
    if d["status"] != "acknowledged":
        d = {
            **d,
            "status": "acknowledged",
            "acked_at": (at or datetime.now(UTC)).isoformat(),
            "acked_by": p.name or p.key_id,
        }
        platform.store.put_document(
            ALARM,
            alarm_id,
            d,
            customer_id=d["customer_id"],
            asset_id=d["asset_id"],
            status="acknowledged",
        )
    return d


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
    customers = platform.list_customers(p)
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
        for o in list_orders(platform, p)
        if start <= o.day <= end and o.status is not WorkOrderStatus.cancelled
    ]
    sites = [s for s in platform.list_sites(p) if s.customer_id == customer_id]
    rows = []
    lo = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    hi = datetime.combine(end, datetime.min.time(), tzinfo=UTC) + timedelta(days=1)
    for s in sites:
        cal = _calendar_between(platform.store.get_document(CALENDAR, s.id), lo, hi)
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
    crews = [Crew.model_validate(d) for d in platform.store.list_documents(CREW)]
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
    windows = [w for w in doc.get("windows", []) if _utc(w["start"]) < hi and _utc(w["end"]) > lo]
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
