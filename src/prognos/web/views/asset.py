"""One asset: what its page shows around the charts, and the forecast charts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from prognos.domain import FailureForecast, Principal, TimeUnit
from prognos.service.fleet import GOOD, WATCH, band
from prognos.service.platform import Platform

PLANNED = ("scheduled", "dispatched", "in_progress")


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
    a = platform.registry.asset(p, asset_id)
    t = platform.registry.asset_type(p, a.type_id)
    health = platform.forecasts.latest_health(p, asset_id)
    fc = platform.forecasts.latest(p, asset_id)
    comps = sorted(platform.registry.components(p, asset_id), key=lambda c: c.id)
    comp_ids = [c.id for c in comps]
    comp_fc = platform.forecasts.latest_of(p, comp_ids) if comp_ids else {}
    comp_h = platform.forecasts.latest_health_of(p, comp_ids) if comp_ids else {}
    components = [
        {
            "id": c.id,
            "type_id": c.type_id,
            "serial": c.serial,
            "model": c.model,
            "health": comp_h[c.id].score if c.id in comp_h else None,
            "band": band(comp_h[c.id].score if c.id in comp_h else None),
            "forecast": _forecast_dict(comp_fc.get(c.id)),
        }
        for c in comps
    ]
    orders = sorted(
        platform.orders.list_orders(p, asset_id=asset_id),
        key=lambda o: (o.day, o.id),
        reverse=True,
    )
    upcoming = [o for o in orders if o.status in PLANNED]
    alarms = platform.alarms.list_alarms(p, status=None, asset_id=asset_id)
    anomalies = sorted((health.anomalies if health else {}).items(), key=lambda kv: -abs(kv[1]))
    drivers = sorted((health.drivers if health else {}).items(), key=lambda kv: -abs(kv[1]))
    channels = t.channel_names
    preferred = [c for c, _ in anomalies + drivers if c in channels]
    default = list(dict.fromkeys(preferred + channels))[:4]
    site = platform.registry.site(p, a.site_id)
    customer = platform.registry.customer(p, a.customer_id)
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
    a = platform.registry.asset(p, asset_id)
    bodies = platform.forecasts.chart_bodies(p, asset_id, history)
    if not bodies:
        return {"asset_id": asset_id, "fan": [], "curve": None, "time_unit": None}
    fan = [{"as_of": b["as_of"], "q": _fan_quantiles(b)} for b in bodies]
    last = FailureForecast.from_dict(bodies[-1])
    unit_s = TimeUnit(last.time_unit).seconds if last.time_unit in TimeUnit.__members__ else 86400.0
    top = max(last.quantile(0.99), 1e-6)
    t = np.linspace(0.0, top, points)
    cdf = np.asarray(last.cdf(t), dtype=float)
    job = None
    orders = [o for o in platform.orders.list_orders(p, asset_id=a.id) if o.status in PLANNED]
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
    hist = platform.forecasts.health_history(p, asset_id, limit=limit)[::-1]
    return {
        "asset_id": asset_id,
        "ts": [h.as_of.isoformat() for h in hist],
        "score": [round(h.score, 2) for h in hist],
        "bands": {"good": GOOD, "watch": WATCH},
    }


def _fan_quantiles(body: dict[str, Any]) -> dict[str, float]:
    """The fan's quantiles: the stored ones where the model reported them, else interpolated."""
    stored = {round(float(k), 6): float(v) for k, v in body["quantiles"].items()}
    if all(lv in stored for lv in FAN_LEVELS):
        return {f"{lv:g}": round(stored[lv], 4) for lv in FAN_LEVELS}
    f = FailureForecast.from_dict(body)
    return {f"{lv:g}": round(f.quantile(lv), 4) for lv in FAN_LEVELS}
