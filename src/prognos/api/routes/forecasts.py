"""Forecasts and health: per asset, with history, and for a whole fleet."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from prognos.api.deps import PlatformDep, PrincipalDep
from prognos.api.routing import router as make_router
from prognos.api.schemas import FleetForecasts, ForecastOut, HealthOut
from prognos.errors import NotFound

router = make_router(["prognostics"])


@router.get("/assets/{asset_id}/forecast", response_model_exclude_unset=True)
def get_forecast(
    asset_id: str,
    platform: PlatformDep,
    principal: PrincipalDep,
    history: Annotated[
        int, Query(ge=0, le=1000, description="also return this many earlier forecasts")
    ] = 0,
    curve_points: Annotated[int, Query(ge=2, le=500)] = 50,
) -> ForecastOut:
    """The newest forecast with its survival curve; ``history`` adds earlier ones."""
    hist = platform.forecasts.require_forecast(principal, asset_id, history)
    f = hist[0]
    horizon = max(f.quantile(0.99), 1.0)
    ts = [horizon * i / (curve_points - 1) for i in range(curve_points)]
    out = f.as_dict()
    out["survival"] = {"t": ts, "p": [float(f.survival(t)) for t in ts]}
    if history:
        out["history"] = [h.as_dict() for h in hist]
    return ForecastOut.model_validate(out)


@router.get("/assets/{asset_id}/health", response_model_exclude_unset=True)
def get_health(
    asset_id: str,
    platform: PlatformDep,
    principal: PrincipalDep,
    history: Annotated[
        int, Query(ge=0, le=5000, description="also return this many earlier scores, newest first")
    ] = 0,
) -> HealthOut:
    """The newest health score (0-100, drivers, anomalies); ``history`` adds earlier ones."""
    hist = platform.forecasts.health_history(principal, asset_id, limit=max(history, 1))
    if not hist:
        raise NotFound(
            f"asset {asset_id!r} has no health score yet",
            hint="train a health model for its type (prognos train) and send it telemetry",
        )
    out = hist[0].as_dict()
    if history:
        out["history"] = [{"as_of": h.as_of.isoformat(), "score": h.score} for h in hist]
    return HealthOut.model_validate(out)


@router.get("/fleet/forecasts", response_model_exclude_unset=True)
def fleet_forecasts(
    platform: PlatformDep,
    principal: PrincipalDep,
    customer: str | None = None,
    type: str | None = None,
    horizon: Annotated[
        float | None,
        Query(
            gt=0, le=1e6, allow_inf_nan=False, description="add P(failure within horizon) per asset"
        ),
    ] = None,
) -> FleetForecasts:
    """Newest forecast of every asset the caller may see, riskiest first."""
    return FleetForecasts.model_validate(
        platform.forecasts.fleet(principal, customer, type, horizon)
    )
