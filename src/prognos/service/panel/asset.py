"""One asset: what its page shows around the charts, and the forecast charts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import numpy as np

from prognos.domain import FailureForecast, Principal, TimeUnit
from prognos.domain.planning import (
    WorkOrder,
)
from prognos.service.panel._common import (
    ALARM,
    GOOD,
    PLANNED,
    WATCH,
    WORKORDER,
    _rows,
    band,
)
from prognos.service.platform import Platform


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


def health_chart(
    platform: Platform, p: Principal, asset_id: str, limit: int = 500
) -> dict[str, Any]:
    """The asset's health scores over time, oldest first, with the band limits to shade."""
    platform.get_asset(p, asset_id)
    hist = platform.store.health_history(asset_id, limit=limit)[::-1]
    return {
        "asset_id": asset_id,
        "ts": [h.as_of.isoformat() for h in hist],
        "score": [round(h.score, 2) for h in hist],
        "bands": {"good": GOOD, "watch": WATCH},
    }


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
