"""Forecasts and health: per asset, with history, and for a whole fleet."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from prognos.api.deps import PlatformDep, PrincipalDep
from prognos.errors import NotFound

router = APIRouter(tags=["prognostics"])


@router.get("/assets/{asset_id}/forecast")
def get_forecast(
    asset_id: str,
    platform: PlatformDep,
    principal: PrincipalDep,
    history: Annotated[
        int, Query(ge=0, le=1000, description="also return this many earlier forecasts")
    ] = 0,
    curve_points: Annotated[int, Query(ge=2, le=500)] = 50,
) -> dict:
    """The newest forecast with its survival curve; ``history`` adds earlier ones."""
    platform.get_asset(principal, asset_id)
    hist = platform.store.forecast_history(asset_id, limit=max(history, 1))
    if not hist:
        raise NotFound(
            f"asset {asset_id!r} has no forecast yet",
            hint="train a model for its type (prognos train) or send it telemetry",
        )
    f = hist[0]
    horizon = max(f.quantile(0.99), 1.0)
    ts = [horizon * i / (curve_points - 1) for i in range(curve_points)]
    out = f.as_dict()
    out["survival"] = {"t": ts, "p": [float(f.survival(t)) for t in ts]}
    if history:
        out["history"] = [h.as_dict() for h in hist]
    return out


@router.get("/assets/{asset_id}/health")
def get_health(
    asset_id: str,
    platform: PlatformDep,
    principal: PrincipalDep,
    history: Annotated[
        int, Query(ge=0, le=5000, description="also return this many earlier scores, newest first")
    ] = 0,
) -> dict:
    """The newest health score (0-100, drivers, anomalies); ``history`` adds earlier ones."""
    platform.get_asset(principal, asset_id)
    hist = platform.store.health_history(asset_id, limit=max(history, 1))
    if not hist:
        raise NotFound(
            f"asset {asset_id!r} has no health score yet",
            hint="train a health model for its type (prognos train) and send it telemetry",
        )
    out = hist[0].as_dict()
    if history:
        out["history"] = [{"as_of": h.as_of.isoformat(), "score": h.score} for h in hist]
    return out


@router.get("/fleet/forecasts")
def fleet_forecasts(
    platform: PlatformDep,
    principal: PrincipalDep,
    customer: str | None = None,
    type: str | None = None,
    horizon: Annotated[
        float | None, Query(description="add P(failure within horizon) per asset")
    ] = None,
) -> dict:
    """Newest forecast of every asset the caller may see, riskiest first."""
    assets, _ = platform.list_assets(principal, customer_id=customer, type_id=type)
    ids = [a.id for a in assets]
    forecasts = platform.store.latest_forecasts(ids)
    items = []
    for a in assets:
        f = forecasts.get(a.id)
        if f is None:
            continue
        d = {
            "asset_id": a.id,
            "customer_id": a.customer_id,
            "site_id": a.site_id,
            "type_id": a.type_id,
            "as_of": f.as_of.isoformat(),
            "time_unit": f.time_unit,
            "p10": f.p10,
            "p50": f.p50,
            "p90": f.p90,
            "model_version": f.model_version,
        }
        if horizon is not None:
            d["prob_fail_within_horizon"] = float(f.prob_fail_before(horizon))
        items.append(d)
    items.sort(key=lambda d: d["p50"])
    return {
        "count": len(items),
        "assets_without_forecast": len(assets) - len(items),
        "items": items,
    }
