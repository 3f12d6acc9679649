"""The fleet overview in one statement: a page of assets with their newest health, forecast,
next job and open alarms, the counts over every asset the filters select, and the RUL histogram.

Paging, sorting and filtering stay in the database, so 10,000 assets cost tens of milliseconds
(``prognos bench web``); the service layer (``service.fleet``) decides who may see what.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from prognos.store.sql import SqlBase

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


@dataclass(frozen=True)
class FleetFilter:
    """Which assets a fleet query selects (top-level assets only) and how they are ordered."""

    customer_id: str | None = None
    site_id: str | None = None
    type_id: str | None = None
    search: str | None = None
    band: str | None = None
    sort: str = "rul"
    desc: bool = False
    limit: int = 50
    offset: int = 0
    nothing: bool = False  # a customer asking for another customer's fleet: no rows
    retired: bool | None = False  # False: live assets only; True: retired only; None: both
    only_ids: tuple[str, ...] | None = None  # of these assets only (offline ones, say)
    not_ids: tuple[str, ...] = ()  # none of these


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
    SELECT asset_id, count(*) AS alarms FROM alarms WHERE state = 'active' GROUP BY asset_id
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


class FleetSql(SqlBase):
    def fleet_rows(
        self,
        f: FleetFilter,
        days_per_unit: dict[str, float],
        jobs_until: date,
        bins: int = 20,
    ) -> list[tuple]:
        """Rows of three kinds (see ``_PAGE_SQL``): 'p' page rows, 's' the counts, 'h' the
        histogram. ``days_per_unit``: days per time unit of each asset type (1 when missing)."""
        where, params = ["parent_id IS NULL"], []
        if f.nothing:
            where.append("1 = 0")
        for col, val in (
            ("customer_id", f.customer_id),
            ("site_id", f.site_id),
            ("type_id", f.type_id),
        ):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        if f.search:
            where.append("(lower(id) LIKE ? OR lower(serial) LIKE ? OR lower(model) LIKE ?)")
            params += [f"%{f.search.lower()}%"] * 3
        if f.retired is not None:
            where.append(
                "coalesce(lifecycle, 'in_service') " + ("=" if f.retired else "<>") + " 'retired'"
            )
        for ids, op in ((f.only_ids, "IN"), (f.not_ids or None, "NOT IN")):
            if ids is not None:
                where.append(f"id {op} ({', '.join('?' * len(ids))})" if ids else "1 = 0")
                params += list(ids)
        whens = [
            f"WHEN '{tid}' THEN {x!r}"
            for tid, x in days_per_unit.items()
            if x != 1.0 and "'" not in tid
        ]
        days = f"(CASE a.type_id {' '.join(whens)} ELSE 1.0 END)" if whens else "1.0"
        cte = _FLEET_CTE.format(
            where=" AND ".join(where), band=_BAND_SQL.get(f.band or "", ""), days=days
        )
        sql = _PAGE_SQL.format(
            cte=cte,
            order=SORTS[f.sort],
            direction="DESC" if f.desc else "ASC",
            limit=int(f.limit),
            offset=int(f.offset),
            bins=f"{float(bins)!r}",
        )
        return self._rows(sql, [*params, jobs_until])

    def fleet_stamp(self, customer_id: str | None = None) -> str:
        """Changes whenever the fleet page would: a forecast or health score lands, a work order
        or alarm moves, an asset is registered. One cheap statement; a customer's stamp moves
        only with its own assets."""
        if customer_id is None:
            mine, docs, params = "", "", []
        else:
            mine = " WHERE asset_id IN (SELECT id FROM assets WHERE customer_id = ?)"
            docs = " WHERE customer_id = ?"
            params = [customer_id] * 5
        row = self._rows(
            f"SELECT (SELECT max(created_at) FROM forecasts{mine}), "
            f"(SELECT count(*) FROM health{mine}), "
            f"(SELECT max(updated_at) FROM documents{docs}), "
            f"(SELECT max(updated_at) FROM alarms{docs}), "
            f"(SELECT count(*) FROM assets{docs})",
            params,
        )[0]
        return "|".join("" if v is None else str(v) for v in row)


__all__ = ["SORTS", "FleetFilter", "FleetSql"]
