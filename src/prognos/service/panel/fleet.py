"""The fleet page: one statement answers the page, the counts and the RUL histogram."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from prognos.domain import Principal, TimeUnit
from prognos.errors import ValidationFailed
from prognos.service.panel._common import (
    LATER_DAYS,
    SOON_DAYS,
    _day,
    _rows,
    _utc,
    band,
)
from prognos.service.platform import Platform

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


def fleet_stamp(platform: Platform, p: Principal) -> str:
    """Changes whenever the fleet page would: a forecast or health score lands, a work order or
    alarm moves, an asset is registered. One cheap statement, for pages that poll it; a
    customer's stamp moves only with its own assets."""
    if p.is_manufacturer:
        mine, docs, params = "", "", []
    else:
        mine = " WHERE asset_id IN (SELECT id FROM assets WHERE customer_id = ?)"
        docs = " WHERE customer_id = ?"
        params = [p.customer_id] * 4
    row = _rows(
        platform,
        f"SELECT (SELECT max(created_at) FROM forecasts{mine}), "
        f"(SELECT count(*) FROM health{mine}), "
        f"(SELECT max(updated_at) FROM documents{docs}), "
        f"(SELECT count(*) FROM assets{docs})",
        params,
    )[0]
    return "|".join("" if v is None else str(v) for v in row)
