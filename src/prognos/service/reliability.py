"""Reliability from events: a censored Weibull per component of an asset type, and forecasts
from it for assets whose type has too few run-to-failure histories for a sensor model.

Lives come from labelled events (``EventService.lives``): a failure ends a life as an event, a
replacement without a failure right-censors it, the life in progress is censored at the end of
the data. ``fit`` stores one ``WeibullModel`` per component (``None``: the asset itself) under
``TYPE:reliability``, optionally with covariates (``age``: the asset's age in years; ``model``:
its model name, one-hot). ``forecast`` gives each component's remaining life given its age
since its last reset.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from prognos.analytics.life_events import Life, current_start
from prognos.domain import Asset, FailureForecast, Principal
from prognos.errors import ModelError, ValidationFailed
from prognos.service.events import EventService
from prognos.service.forecasts import ForecastService
from prognos.service.registry import RegistryService
from prognos.service.training import TrainingService
from prognos.store.ports import ReadingsPort

if TYPE_CHECKING:  # scipy and scikit-learn load when a model is fitted or read, not at start-up
    from prognos.analytics.reliability import WeibullModel

YEAR_S = 365.25 * 86400.0
COVARIATES = ("age", "model")
MODEL = "weibull-aft"


@dataclass
class Covariates:
    """How an asset becomes a row of covariates (kept with the model, used to forecast)."""

    names: list[str]
    models: list[str] = field(default_factory=list)  # one-hot categories (first is the base)

    def row(self, asset: Asset, at: datetime) -> list[float]:
        out: list[float] = []
        for n in self.names:
            if n == "age":
                out.append((at - asset.installed_at).total_seconds() / YEAR_S)
            else:
                out += [float(asset.model == m) for m in self.models[1:]]
        return out

    @property
    def columns(self) -> list[str]:
        cols: list[str] = []
        for n in self.names:
            cols += ["age_years"] if n == "age" else [f"model={m}" for m in self.models[1:]]
        return cols


class ReliabilityService:
    def __init__(
        self,
        events: EventService,
        registry: RegistryService,
        readings: ReadingsPort,
        training: TrainingService,
        forecasts: ForecastService,
    ):
        self._events = events
        self._registry = registry
        self._readings = readings
        self._training = training
        self._forecasts = forecasts

    def _end_of_data(self, p: Principal, type_id: str) -> datetime | None:
        """The newest event or reading of the type's assets: where lives in progress end."""
        times = [
            datetime.fromisoformat(e["at"])
            for evs in self._events.of_type(p, type_id).values()
            for e in evs
        ]
        for a in self._registry.snapshot().assets.values():
            if a.type_id == type_id:
                last = self._readings.telemetry_span(a.id)[1]
                times += [last] if last else []
        return max(times) if times else None

    def fit(
        self,
        p: Principal,
        type_id: str,
        *,
        covariates: list[str] | None = None,
        from_installation: bool = True,
        until: datetime | None = None,
    ) -> dict[str, Any]:
        """Fit and store a Weibull per component from the type's events; the report per
        component (shape, scale and mean life in the type's unit, counts, goodness of fit)."""
        p.require_manufacturer("models are trained by the manufacturer")
        t = self._registry.asset_type(p, type_id)
        names = list(dict.fromkeys(covariates or []))
        bad = [c for c in names if c not in COVARIATES]
        if bad:
            raise ValidationFailed(
                f"unknown covariate {bad[0]!r}", hint=f"use {' or '.join(COVARIATES)}"
            )
        until = until or self._end_of_data(p, type_id)
        lives = self._events.lives(p, type_id, until=until, from_installation=from_installation)
        if not lives:
            raise ModelError(
                f"asset type {type_id!r} has no lives to fit: no failure or replacement events",
                hint="load them with `prognos events load`",
            )
        assets = self._registry.snapshot().assets
        cov = Covariates(names, sorted({assets[x.asset_id].model for x in lives}))
        unit_s = t.time_unit.seconds
        from prognos.analytics.reliability import WeibullModel, fit_report

        models: dict[str | None, WeibullModel] = {}
        report: dict[str, Any] = {}
        for comp in sorted({x.component for x in lives}, key=lambda c: c or ""):
            sub = [x for x in lives if x.component == comp]
            if not any(x.failed for x in sub):
                report[comp or "(asset)"] = {"skipped": "no failure among its lives"}
                continue
            y = np.array([x.duration(unit_s) for x in sub])
            d = np.array([float(x.failed) for x in sub])
            rep = fit_report(y, d)
            X = np.array([cov.row(assets[x.asset_id], until) for x in sub]) if names else None
            model = WeibullModel().fit(X, y, event=d)
            if names:
                rep["coefficients"] = dict(zip(cov.columns, model.coef_.tolist(), strict=True))
                rep["life_ratio"] = {c: float(np.exp(v)) for c, v in rep["coefficients"].items()}
                rep["aic_with_covariates"] = model.aic_
            models[comp] = model
            report[comp or "(asset)"] = _rounded(rep)
        if not models:
            raise ModelError(f"asset type {type_id!r}: no component has a failure to fit")
        model_id = f"{type_id}-reliability-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        body = {
            "model": MODEL,
            "time_unit": t.time_unit.value,
            "components": report,
            "covariates": cov.columns,
            "lives": len(lives),
            "from_installation": from_installation,
            "until": until.isoformat() if until else None,
        }
        card = self._training.save_artifact(
            p, f"{type_id}:reliability", model_id, {"models": models, "covariates": cov}, body
        )
        return card

    def forecast(self, p: Principal, asset: Asset, as_of: datetime | None = None) -> list:
        """Each component's remaining-life forecast of ``asset`` from its type's Weibull fits
        (empty without a fit), as of ``as_of`` (default: the end of the data the fit saw, or
        the asset's newest reading when later)."""
        loaded = self._forecasts.model_for(f"{asset.type_id}:reliability")
        if loaded is None:
            return []
        meta, fitted = loaded
        t = self._registry.snapshot().types[asset.type_id]
        events = self._events.of_asset(p, asset.id)
        if as_of is None:
            last = self._readings.telemetry_span(asset.id)[1]
            until = datetime.fromisoformat(meta["until"]) if meta.get("until") else None
            as_of = max([x for x in (last, until) if x is not None], default=datetime.now(UTC))
        start = self._events.first_start(asset, events)
        cov: Covariates = fitted["covariates"]
        out = []
        for comp, model in fitted["models"].items():
            life_start = current_start(events, comp, start)
            age = max((as_of - life_start).total_seconds() / t.time_unit.seconds, 0.0)
            x = cov.row(asset, as_of) if cov.names else None
            f = model.forecast(
                asset.id, as_of, age=age, x=x, time_unit=t.time_unit.value, component=comp
            )
            extra = {
                **f.extra,
                "model_version_number": meta["version"],
                "life_start": str(life_start),
            }
            out.append(_with(f, meta["id"], extra))
        return out

    def lives(self, p: Principal, type_id: str, **kw: Any) -> list[Life]:
        return self._events.lives(p, type_id, **kw)

    def events_of_type(self, p: Principal, type_id: str) -> dict[str, list[dict[str, Any]]]:
        return self._events.of_type(p, type_id)


def _with(f: FailureForecast, version: str, extra: dict) -> FailureForecast:
    import dataclasses

    return dataclasses.replace(f, model_version=version, extra=extra)


def _rounded(rep: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in rep.items()}
