"""Training from stored telemetry: health models from early life, RUL models from lives.

Training data are the run-to-failure histories the platform knows of: assets of a type with a
labelled failure event (a C-MAPSS run-to-failure unit, or a work order whose findings record a
failure or a replacement). Each asset's readings become rows of (unit, age, channels) where age
is counted in the type's time unit from installation. Fitted models are pickled artefacts with
their training range and validation metrics, versioned per asset type in the store.
"""

from __future__ import annotations

import pickle
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from prognos.domain import Asset, Principal
from prognos.errors import ModelError
from prognos.service.forecasts import ForecastService
from prognos.service.frames import asset_frame, setting_channels
from prognos.service.registry import RegistryService
from prognos.service.workorders import WorkOrderService
from prognos.store.ports import ForecastsPort, ReadingsPort

Progress = Callable[[str, int, int], None]


class TrainingService:
    def __init__(
        self,
        artifacts_dir: Path,
        readings: ReadingsPort,
        models: ForecastsPort,
        registry: RegistryService,
        orders: WorkOrderService,
        forecasts: ForecastService,
        health_params: dict[str, Any] | None = None,
    ):
        self._health = {"baseline_rows": 50, **(health_params or {})}
        self._artifacts_dir = artifacts_dir
        self._readings = readings
        self._models = models
        self._registry = registry
        self._orders = orders
        self._forecasts = forecasts

    def _assets_of(self, type_id: str) -> dict[str, Asset]:
        return {a.id: a for a in self._registry.snapshot().assets.values() if a.type_id == type_id}

    def failure_lives(self, p: Principal, type_id: str) -> dict[str, tuple[datetime, float]]:
        """Labelled failures of assets of this type: life id -> (life start, age at failure).

        A life id is the asset id, suffixed with the failure's date when an asset failed more than
        once (each replacement starts a new life).
        """
        assets = self._assets_of(type_id)
        out: dict[str, tuple[datetime, float]] = {}
        for ev in self._orders.failures(p):
            a = assets.get(ev["asset_id"])
            if a is None or ev.get("age") is None:
                continue
            start = (
                datetime.fromisoformat(ev["life_start"]) if ev.get("life_start") else a.installed_at
            )
            life = a.id if a.id not in out else f"{a.id}@{ev['at'][:10]}"
            out[life] = (start, float(ev["age"]))
        return out

    def train(
        self,
        p: Principal,
        type_id: str,
        *,
        validation_share: float = 0.2,
        random_state: int = 0,
        estimator_params: dict[str, Any] | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Fit a sensor RUL model for ``type_id`` from stored run-to-failure histories; store the artefact."""

        from prognos.analytics.rul import MODEL_NAME, RulEstimator, SensorRulModel

        p.require_manufacturer("models are trained by the manufacturer")
        t = self._registry.asset_type(p, type_id)
        labels = self.failure_lives(p, type_id)
        if len(labels) < 5:
            raise ModelError(
                f"asset type {type_id!r} has {len(labels)} run-to-failure histories; at least 5 are needed",
                hint="load some (prognos ingest cmapss) or record failures through work-order findings",
            )
        frames = []
        assets = self._assets_of(type_id)
        for i, life in enumerate(sorted(labels)):
            start, age = labels[life]
            f = asset_frame(self._readings, assets[life.split("@")[0]], t, start=start)
            if not f.empty:
                f = f[f["cycle"] <= age].assign(unit=life)
                f["rul"] = age - f["cycle"]
                frames.append(f)
            if progress:
                progress("reading histories", i + 1, len(labels))
        data = pd.concat(frames, ignore_index=True)
        settings = [c for c in setting_channels(t) if c in data.columns]
        sensors = [c for c in data.columns if c not in {"unit", "cycle", "rul", *settings}]

        rng = np.random.default_rng(random_state)
        units = np.array(sorted(data["unit"].unique()))
        held = set(
            rng.choice(units, size=max(1, int(len(units) * validation_share)), replace=False)
        )
        tr, va = data[~data["unit"].isin(held)], data[data["unit"].isin(held)]

        def make():
            return SensorRulModel(
                unit_col="unit",
                time_col="cycle",
                settings=settings,
                sensors=sensors,
                estimator=RulEstimator(**estimator_params) if estimator_params else None,
                random_state=random_state,
            )

        t0 = time.perf_counter()
        # two steps, each its own bar that fills when it ends (a bar per step name)
        if progress:
            progress("validating on held-out units", 0, 1)
        check = make().fit(tr.drop(columns=["rul"]), tr["rul"].to_numpy())
        metrics = self._validate(check, va, rng)
        if progress:
            progress("validating on held-out units", 1, 1)
            progress("training on all units", 0, 1)
        model = make().fit(data.drop(columns=["rul"]), data["rul"].to_numpy())
        if progress:
            progress("training on all units", 1, 1)
        seconds = time.perf_counter() - t0

        model_id = f"{type_id}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        folder = Path(self._artifacts_dir) / type_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{model_id}.pkl"
        artifact = pickle.dumps(model)
        path.write_bytes(artifact)  # a copy to look at; the database keeps the one that loads
        times = [self._readings.telemetry_span(life.split("@")[0]) for life in labels]
        body = {
            "model": MODEL_NAME,
            "path": str(path.resolve()),
            "units": len(units),
            "rows": len(data),
            "settings": settings,
            "sensors": sensors,
            "train_seconds": round(seconds, 2),
            "data_start": min(s[0] for s in times if s[0]).isoformat(),
            "data_end": max(s[1] for s in times if s[1]).isoformat(),
            "metrics": metrics,
            "time_unit": t.time_unit.value,
        }
        body["version"] = self._models.save_model(model_id, type_id, body, artifact)
        self._forecasts.invalidate(type_id)
        return {**body, "id": model_id}

    @staticmethod
    def _validate(model, va: pd.DataFrame, rng: np.random.Generator) -> dict[str, float]:
        """RMSE and 90 % coverage at random truncation points of held-out units (the test situation)."""
        rows = []
        for _unit, g in va.groupby("unit"):
            n = len(g)
            for cut in rng.integers(max(5, n // 10), n + 1, size=3):
                h = g.iloc[:cut]
                rows.append(
                    (
                        h.drop(columns=["rul"]).assign(unit=f"{_unit}@{cut}"),
                        min(h["rul"].iloc[-1], model.cap),
                    )
                )
        frame = pd.concat([r[0] for r in rows], ignore_index=True)
        truth = pd.Series([r[1] for r in rows], index=[r[0]["unit"].iloc[0] for r in rows])
        q = model.predict_quantiles_last(frame, (0.05, 0.5, 0.95))
        q = q.loc[truth.index]
        err = q[0.5].to_numpy() - truth.to_numpy()
        inside = (truth.to_numpy() >= q[0.05].to_numpy()) & (truth.to_numpy() <= q[0.95].to_numpy())
        return {
            "val_rmse": float(np.sqrt(np.mean(err**2))),
            "val_coverage_90": float(inside.mean()),
            "val_cases": len(truth),
        }

    def train_health(
        self,
        p: Principal,
        type_id: str,
        healthy_share: float = 0.25,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Fit a type's health model from its assets' lives (``health_fit.fit_health``).

        A life is one part's readings from installation to its failure (labelled failures:
        run-to-failure histories, failures recorded through work orders) or to now (the current
        life of each asset). The first ``baseline_rows`` readings of each life are its healthy
        period. Failed lives validate the choice of anomaly detector and say which channels
        drift with wear. ``healthy_share`` is kept for callers of before; the baseline is a
        number of readings (``PROGNOS_HEALTH_BASELINE_ROWS``), not a share of a life.
        """
        from prognos.analytics.health_fit import fit_health
        from prognos.analytics.health_rule import RuleParams

        p.require_manufacturer("models are trained by the manufacturer")
        t = self._registry.asset_type(p, type_id)
        assets = self._assets_of(type_id)
        labels = self.failure_lives(p, type_id)
        lives: list[pd.DataFrame] = []
        failed: list[bool] = []
        ended = set()
        for i, life in enumerate(sorted(labels)):
            start, age = labels[life]
            aid = life.split("@")[0]
            f = asset_frame(self._readings, assets[aid], t, start=start)
            if not f.empty:
                lives.append(f[f["cycle"] <= age])
                failed.append(True)
                if start == assets[aid].installed_at:
                    ended.add(aid)
            if progress:
                progress("reading lives for health", i + 1, len(labels))
        for a in assets.values():  # current lives, not yet ended
            if a.id in ended:
                continue
            f = asset_frame(self._readings, a, t)
            if len(f) >= 10:
                lives.append(f)
                failed.append(False)
        lives = [lf.drop(columns=["unit", "cycle"]) for lf in lives]
        if not lives:
            raise ModelError(
                f"no telemetry for assets of type {type_id!r} to learn healthy behaviour from"
            )
        columns = pd.concat([lf.iloc[:5] for lf in lives]).columns
        settings = [c for c in setting_channels(t) if c in columns]
        varies = pd.concat([lf.iloc[: self._health["baseline_rows"]] for lf in lives]).std()
        channels = [c for c in columns if c not in settings and varies.get(c, 0.0) > 1e-9]
        lives = [lf.reindex(columns=settings + channels).ffill().dropna() for lf in lives]
        model = fit_health(
            lives,
            failed,
            settings=settings,
            random_state=0,
            **{**self._health, "rule": RuleParams.of(self._health.get("rule"))},
        )
        data = lives
        model_id = f"{type_id}-health-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        folder = Path(self._artifacts_dir) / type_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{model_id}.pkl"
        artifact = pickle.dumps(model)
        path.write_bytes(artifact)  # a copy to look at; the database keeps the one that loads
        body = {
            "model": f"health-{model.detector}",
            "path": str(path.resolve()),
            "rows": int(sum(len(lf) for lf in data)),
            "lives": len(data),
            "failed_lives": int(sum(failed)),
            "channels": list(model.channels_),
            "dropped_channels": list(model.dropped_),
            "explained_channels": list(model.explained_),
            "settings": settings,
            "assets": len(assets),
            "validation": model.validation_,
        }
        body["version"] = self._models.save_model(model_id, f"{type_id}:health", body, artifact)
        self._forecasts.invalidate(f"{type_id}:health")
        return {**body, "id": model_id}
