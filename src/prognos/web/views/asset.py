"""One asset: what its page shows around the charts, and the forecast charts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from prognos.domain import FailureForecast, Principal, TimeUnit
from prognos.service.fleet import GOOD, WATCH, band
from prognos.service.platform import Platform
from prognos.web.views.names import Names, asset_name

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
            "name": asset_name(c),
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
    alarms = platform.alarms.of_asset(p, asset_id)
    anomalies = sorted((health.anomalies if health else {}).items(), key=lambda kv: -abs(kv[1]))
    drivers = sorted((health.drivers if health else {}).items(), key=lambda kv: -abs(kv[1]))
    channels = t.channel_names
    preferred = [c for c, _ in anomalies + drivers if c in channels]
    default = list(dict.fromkeys(preferred + channels))[:4]
    site = platform.registry.site(p, a.site_id)
    customer = platform.registry.customer(p, a.customer_id)
    names = Names(platform, p)
    for c in components:
        c["type_name"] = names.type(c["type_id"])
    return {
        "asset": a,
        "name": asset_name(a),
        "names": names,
        "channel_info": channel_info(t),
        "peers": peers(platform, p, a),
        "type": t,
        "site": site,
        "customer": customer,
        "health": health,
        "band": band(health.score if health else None),
        "forecast": _forecast_dict(fc),
        "forecast_obj": fc,
        "components": components,
        "orders": orders,
        "next_order": min(upcoming, key=lambda o: o.day) if upcoming else None,
        "alarms": alarms,
        "anomalies": anomalies,
        "drivers": drivers,
        "channels": channels,
        "default_channels": default,
        "backtest": platform.backtests.of_asset(p, asset_id),
    }


def channel_info(t: Any) -> list[dict[str, Any]]:
    """Per channel of a type: unit, the valid range a healthy sensor reports and the value at
    which the part counts as failed (what the charts draw as limits)."""
    return [
        {
            "name": c.name,
            "unit": c.unit,
            "min": c.min,
            "max": c.max,
            "description": c.description,
            "failure": t.failure_threshold.get(c.name),
        }
        for c in t.channels
    ]


def peers(platform: Platform, p: Principal, a: Any, limit: int = 50) -> list[dict[str, str]]:
    """Other assets of the same type the caller may see, to compare with on one chart: the
    same site first, then the rest (at most ``limit``, paged in the store)."""
    found: dict[str, Any] = {}
    for site in (a.site_id, None):
        page, _ = platform.registry.assets(p, type_id=a.type_id, site_id=site, limit=limit + 1)
        for b in page:
            if b.id != a.id and b.parent_id == a.parent_id and len(found) < limit:
                found.setdefault(b.id, b)
        if len(found) >= limit:
            break
    return [{"id": b.id, "name": asset_name(b), "site_id": b.site_id} for b in found.values()]


def latest_readings(
    platform: Platform,
    p: Principal,
    asset_id: str,
    channels: list[str] | None = None,
    last: str | datetime | None = None,
) -> dict[str, dict[str, Any]]:
    """The newest stored reading of each channel (a chart's headline), not a bucket's mean:
    the last two days are read first; a channel quiet for longer is looked up on its own."""
    if last is None:
        last = platform.telemetry.span(p, asset_id)[1]
        if last is None:
            return {}
    if isinstance(last, str):
        last = datetime.fromisoformat(last)
    recent = platform.telemetry.history(p, asset_id, channels, start=last - timedelta(days=2))
    out: dict[str, dict[str, Any]] = {}
    for ch, g in recent.groupby("channel", sort=False):
        out[str(ch)] = {"ts": g["ts"].iloc[-1].isoformat(), "value": float(g["value"].iloc[-1])}
    for ch in [c for c in channels or [] if c not in out]:
        older = platform.telemetry.history(p, asset_id, [ch])
        if len(older):
            out[ch] = {
                "ts": older["ts"].iloc[-1].isoformat(),
                "value": float(older["value"].iloc[-1]),
            }
    return out


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


def backtest_chart(platform: Platform, p: Principal, asset_id: str) -> dict[str, Any]:
    """The asset's backtest replay (``prognos backtest``): the remaining life the models gave at
    each moment with their 80 % interval, the true remaining life, the health score."""
    r = platform.backtests.of_asset(p, asset_id) or {}
    keys = ("ts", "p10", "p50", "p90", "rul_true", "health", "failed_at", "time_unit")
    return {"asset_id": asset_id, **{k: r.get(k) for k in keys}, "ts": r.get("ts") or []}
