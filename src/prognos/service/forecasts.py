"""Health and failure forecasts: the models of each asset type applied to assets' histories.

``ForecastService`` loads the newest model of each type (cached until training replaces it),
turns one asset's history into its forecast and health score (``assess``), saves them in bulk
(raising the alarms the scores call for), and answers the tenant-scoped reads the API and the
panel make. Wear-threshold types (chains, elevators) are forecast from each asset's own trend.
"""

from __future__ import annotations

import dataclasses
import pickle
import threading
from pathlib import Path
from typing import Any

import pandas as pd

from prognos.domain import Asset, AssetType, FailureForecast, HealthScore, Principal
from prognos.errors import ModelError, NotFound
from prognos.service.alarms import AlarmService
from prognos.service.frames import asset_frame, life_frame, wide
from prognos.service.registry import RegistryService
from prognos.store.ports import ForecastsPort, ReadingsPort


class ForecastService:
    def __init__(
        self,
        readings: ReadingsPort,
        forecasts: ForecastsPort,
        registry: RegistryService,
        alarms: AlarmService,
    ):
        self._readings = readings
        self._forecasts = forecasts
        self._registry = registry
        self._alarms = alarms
        self._models: dict[str, tuple[dict, Any]] = {}
        self._baselines: dict[tuple[str, str, int], Any] = {}
        self._lock = threading.Lock()

    @property
    def store_port(self) -> ForecastsPort:
        """Where forecasts are saved (profilers wrap its methods)."""
        return self._forecasts

    @property
    def readings_port(self) -> ReadingsPort:
        """Where the histories it forecasts from are read (fleet scoring reads there too)."""
        return self._readings

    # -- models --------------------------------------------------------------------------------
    def invalidate(self, key: str | None = None) -> None:
        """Forget a loaded model (``key``: a type id, or ``TYPE:health``), or all of them."""
        with self._lock:
            if key is None:
                self._models.clear()
            else:
                self._models.pop(key, None)

    def model_for(self, key: str) -> tuple[dict, Any] | None:
        """The newest model stored for ``key`` (its card and the fitted object), or None."""
        with self._lock:
            if key not in self._models:
                meta = self._forecasts.latest_model(key)
                if meta is None:
                    return None
                self._models[key] = (meta, pickle.loads(self._artifact(meta)))
            return self._models[key]

    def _artifact(self, meta: dict[str, Any]) -> bytes:
        """The model's pickle: from the database, or (models trained before it kept them)
        from the file its card names, with a clear error when that is not on this host."""
        blob = self._forecasts.model_artifact(meta["id"])
        if blob is not None:
            return blob
        path = Path(meta["path"])
        if not path.exists():
            raise ModelError(
                f"model {meta['id']} was saved as a file this host cannot read ({path})",
                hint="train it again (prognos train): models are now kept in the database",
            )
        return path.read_bytes()

    # -- one asset -----------------------------------------------------------------------------
    def assess(self, asset: Asset) -> tuple[FailureForecast | None, HealthScore | None]:
        """Forecast and health of ``asset`` from its stored history (health consistent with
        the forecast); writes nothing, so many assets can be saved in one transaction
        (``save``)."""
        f, h = self._assess(asset)
        return f, (self.reconcile([f] if f else [], [h])[0] if h else None)

    def _assess(self, asset: Asset) -> tuple[FailureForecast | None, HealthScore | None]:
        t = self._registry.snapshot().types[asset.type_id]
        h = self.health(asset, t)
        if t.failure_threshold:
            return self.wear_forecast(asset, t), h
        loaded = self.model_for(asset.type_id)
        if loaded is None:  # no sensor RUL model: the failure classifier's P(within H), if any
            return self.classifier_forecast(asset, t), h
        meta, model = loaded
        frame = asset_frame(self._readings, asset, t)
        if frame.empty:
            return None, h
        age = float(frame["cycle"].iloc[-1])
        as_of = pd.Timestamp(asset.installed_at) + pd.Timedelta(seconds=age * t.time_unit.seconds)
        f = model.forecast(
            frame, asset.id, as_of=as_of.to_pydatetime(), time_unit=t.time_unit.value
        )
        f = dataclasses.replace(
            f,
            model_version=f"{meta['id']}",
            component=None,
            extra={**f.extra, "model_version_number": meta["version"], "age": age},
        )
        return f, h

    def classifier_forecast(
        self, asset: Asset, t: AssetType, wide_frame: pd.DataFrame | None = None
    ) -> FailureForecast | None:
        """The type's failure classifier's P(failure within H) of ``asset`` now, as a forecast
        (``analytics.failure_within``), from its current life's readings; None without one."""
        loaded = self.model_for(f"{asset.type_id}:classifier")
        if loaded is None:
            return None
        meta, model = loaded
        if wide_frame is None:
            long = self._readings.read_telemetry(asset.id, start=asset.installed_at)
            wide_frame = wide(long) if not long.empty else pd.DataFrame()
        frame = life_frame(wide_frame.reindex(columns=list(model.channels)), asset, t)
        if frame.empty:
            return None
        age = float(frame["cycle"].iloc[-1])
        p = float(model.proba_last(frame).iloc[-1])
        as_of = pd.Timestamp(asset.installed_at) + pd.Timedelta(seconds=age * t.time_unit.seconds)
        f = model.forecast(p, asset.id, as_of.to_pydatetime(), t.time_unit.value, age)
        extra = {**f.extra, "model_version_number": meta["version"]}
        return dataclasses.replace(f, model_version=meta["id"], extra=extra)

    def forecast(self, p: Principal, asset_id: str, save: bool = True) -> FailureForecast | None:
        """The newest forecast of an asset, made now; also refreshes its health score."""
        asset = self._registry.asset(p, asset_id)
        f, h = self.assess(asset)
        if save:
            self.save([f] if f else [], [h] if h else [])
        return f

    def score_health(self, p: Principal, asset_id: str) -> HealthScore | None:
        """An asset's health now, saved (raising the alarm its anomalies call for)."""
        asset = self._registry.asset(p, asset_id)
        h = self.health(asset, self._registry.asset_type(p, asset.type_id))
        if h is not None:
            h = self.reconcile([], [h])[0]
            self.save([], [h])
        return h

    def wear_forecast(self, asset: Asset, t: AssetType) -> FailureForecast | None:
        """For types with a wear channel and a failure threshold: extrapolate this asset's own
        trend (``service.wear_forecasts``)."""
        from prognos.service.wear_forecasts import wear_forecast

        return wear_forecast(self._readings, asset, t)

    def health(
        self, asset: Asset, t: AssetType, wide_frame: pd.DataFrame | None = None
    ) -> HealthScore | None:
        """Anomaly health of ``asset`` now from its recent readings, against its own baseline
        (the first readings of its current life; ``wide_frame``: its readings since then,
        pivoted). ``save`` reconciles it with the failure forecast (``health_rule``)."""
        loaded = self.model_for(f"{asset.type_id}:health")
        if loaded is None:
            return None
        _meta, model = loaded
        if wide_frame is None:
            long = self._readings.read_telemetry(asset.id, start=asset.installed_at)
            if long.empty:
                return None
            wide_frame = wide(long)
        cols = list(model.settings) + [
            c for c in model.feature_names_in_ if c not in model.settings
        ]
        life = wide_frame.loc[wide_frame.index >= pd.Timestamp(asset.installed_at)]
        life = life.reindex(columns=cols).ffill().dropna()
        if life.empty:
            return None
        baseline = self.baseline(asset, model, life[cols])
        recent = life.iloc[-max(model.window, 1) * 3 :]
        return model.health(
            recent[cols], asset.id, as_of=recent.index[-1].to_pydatetime(), baseline=baseline
        )

    def baseline(self, asset: Asset, model: Any, life: pd.DataFrame) -> Any:
        """The asset's own healthy baseline from its current life (``life``: its readings since
        installation, indexed by time), kept per life once complete (``HealthModel.baseline``:
        the first readings and the first day; a replacement starts a new one). Until then it is
        made again on each call: the type's baseline of a new part, then the partial own one
        with widened spreads."""
        if not hasattr(model, "baseline"):  # a model pickled before own baselines
            return None
        key = (asset.id, asset.installed_at.isoformat(), id(model))
        with self._lock:
            cached = self._baselines.get(key)
        if cached is not None:
            return cached
        b = model.baseline(life)
        if b.own and getattr(b, "complete", True):  # complete: it will not change
            with self._lock:
                self._baselines[key] = b
        return b

    def baselines(self, assets: list[Asset], model: Any) -> dict[str, Any]:
        """Own baselines of ``assets`` for ``model`` (the fleet path's ``health_many``), each
        from the first readings of its current life (cached once complete)."""
        out = {}
        if not hasattr(model, "baseline"):
            return out
        cols = list(model.settings) + [
            c for c in model.feature_names_in_ if c not in model.settings
        ]
        for a in assets:
            key = (a.id, a.installed_at.isoformat(), id(model))
            with self._lock:
                b = self._baselines.get(key)
            if b is None:
                long = self._readings.read_telemetry(a.id, start=a.installed_at)
                if long.empty:
                    continue
                life = wide(long).reindex(columns=cols).ffill().dropna()
                if life.empty:
                    continue
                b = self.baseline(a, model, life[cols])
            out[a.id] = b
        return out

    def reconcile(
        self, forecasts: list[FailureForecast], healths: list[HealthScore]
    ) -> list[HealthScore]:
        """Health scores made consistent with each asset's failure forecast (the one saved
        with it, else its latest stored): ``health_rule.consistent`` (docs/health.md)."""
        from prognos.analytics.health_rule import consistent

        by_asset = {f.asset_id: f for f in forecasts}
        assets = self._registry.snapshot().assets
        out = []
        for h in healths:
            if "anomaly_score" not in h.extra:
                out.append(h)
                continue
            f = by_asset.get(h.asset_id) or self._forecasts.latest_forecast(h.asset_id)
            a = assets.get(h.asset_id)
            if f is not None and a is not None and f.as_of < a.installed_at:
                f = None  # the part taken out's forecast: a new part too young for its own
            out.append(consistent(h, f))
        return out

    def save(self, forecasts: list[FailureForecast], healths: list[HealthScore]) -> None:
        """Store forecasts and health scores, a transaction each, and raise the alarms the
        scores call for."""
        healths = self.reconcile(forecasts, healths)
        self._forecasts.save_forecasts(forecasts)
        self._forecasts.save_healths(healths)
        # a score made from readings of a part replaced meanwhile (a refresh that overlapped
        # the replacement) is history, not news: it raises no alarm on the new part
        assets = self._registry.snapshot().assets
        current = [
            x for x in (*healths, *forecasts)
            if x.asset_id in assets and x.as_of >= assets[x.asset_id].installed_at
        ]  # fmt: skip
        self._alarms.observe(
            healths=[x for x in current if isinstance(x, HealthScore)],
            forecasts=[x for x in current if isinstance(x, FailureForecast)],
        )

    def backfill(
        self, p: Principal, forecasts: list[FailureForecast], healths: list[HealthScore]
    ) -> None:
        """Store forecasts and scores of the past (an import, a replay of history) without
        raising alarms: an alarm is news about now, not about last year."""
        p.require_manufacturer("results are written by the manufacturer")
        self._forecasts.save_forecasts(forecasts)
        self._forecasts.save_healths(healths)

    # -- reads ---------------------------------------------------------------------------------
    def history(self, p: Principal, asset_id: str, limit: int = 100) -> list[FailureForecast]:
        """An asset's stored forecasts, newest first."""
        self._registry.asset(p, asset_id)
        return self._forecasts.forecast_history(asset_id, limit=limit)

    def health_history(self, p: Principal, asset_id: str, limit: int = 500) -> list[HealthScore]:
        """An asset's stored health scores, newest first."""
        self._registry.asset(p, asset_id)
        return self._forecasts.health_history(asset_id, limit=limit)

    def latest(self, p: Principal, asset_id: str) -> FailureForecast | None:
        self._registry.asset(p, asset_id)
        return self._forecasts.latest_forecast(asset_id)

    def latest_health(self, p: Principal, asset_id: str) -> HealthScore | None:
        self._registry.asset(p, asset_id)
        return self._forecasts.latest_health(asset_id)

    def latest_of(self, p: Principal, asset_ids: list[str]) -> dict[str, FailureForecast]:
        """The newest forecast of each of these assets the caller may see."""
        seen = set(self._visible(p, asset_ids))
        return {k: v for k, v in self._forecasts.latest_forecasts(list(seen)).items() if k in seen}

    def latest_health_of(self, p: Principal, asset_ids: list[str]) -> dict[str, HealthScore]:
        seen = set(self._visible(p, asset_ids))
        return {k: v for k, v in self._forecasts.latest_healths(list(seen)).items() if k in seen}

    def fleet(
        self,
        p: Principal,
        customer_id: str | None = None,
        type_id: str | None = None,
        horizon: float | None = None,
    ) -> dict[str, Any]:
        """Newest forecast of every asset the caller may see, riskiest first."""
        assets, _ = self._registry.assets(p, customer_id=customer_id, type_id=type_id)
        forecasts = self._forecasts.latest_forecasts([a.id for a in assets])
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

    def chart_bodies(self, p: Principal, asset_id: str, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` forecasts of an asset (else of its components), oldest first,
        as stored JSON bodies: what a chart of their quantiles over time needs."""
        self._registry.asset(p, asset_id)
        return self._forecasts.forecast_bodies(asset_id, limit)

    def stamp(self, p: Principal, asset_id: str) -> str | None:
        """Changes when a new forecast of the asset is stored (live pages poll it)."""
        self._registry.asset(p, asset_id)
        return self._forecasts.forecast_stamp(asset_id)

    def _visible(self, p: Principal, asset_ids: list[str]) -> list[str]:
        assets = self._registry.snapshot().assets
        return [i for i in asset_ids if i in assets and p.may_see(assets[i].customer_id)]

    def require_forecast(self, p: Principal, asset_id: str, history: int = 0) -> list:
        """The newest forecast (and ``history`` earlier ones), or a clear NotFound."""
        hist = self.history(p, asset_id, limit=max(history, 1))
        if not hist:
            raise NotFound(
                f"asset {asset_id!r} has no forecast yet",
                hint="train a model for its type (prognos train) or send it telemetry",
            )
        return hist
