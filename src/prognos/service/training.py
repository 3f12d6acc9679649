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

from prognos.analytics.baseline_rows import by_age
from prognos.analytics.life_events import Life
from prognos.config import Settings
from prognos.domain import Asset, Principal
from prognos.errors import ModelError
from prognos.service.events import EventService
from prognos.service.forecasts import ForecastService
from prognos.service.frames import asset_frame, setting_channels
from prognos.service.registry import RegistryService
from prognos.service.training_data import in_window, life_table
from prognos.store.ports import ForecastsPort, ReadingsPort

Progress = Callable[[str, int, int], None]


def rul_model(settings: list[str], sensors: list[str], params: dict[str, Any], seed: int):
    """The sensor RUL model ``train`` fits (and a backtest refits per fold)."""
    from prognos.analytics.rul import RulEstimator, SensorRulModel

    return SensorRulModel(
        unit_col="unit",
        time_col="cycle",
        settings=settings,
        sensors=sensors,
        estimator=RulEstimator(**params) if params else None,
        random_state=seed,
    )


class TrainingService:
    def __init__(
        self,
        settings: Settings,
        readings: ReadingsPort,
        models: ForecastsPort,
        registry: RegistryService,
        events: EventService,
        forecasts: ForecastService,
        health_params: dict[str, Any] | None = None,
    ):
        self._settings = settings
        self._artifacts_dir = settings.artifacts_dir
        self._health = {"baseline_rows": 50, **(health_params or {})}
        self._readings = readings
        self._models = models
        self._registry = registry
        self._events = events
        self._forecasts = forecasts

    def _assets_of(self, type_id: str) -> dict[str, Asset]:
        return {a.id: a for a in self._registry.snapshot().assets.values() if a.type_id == type_id}

    def failure_lives(
        self,
        p: Principal,
        type_id: str,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Life]:
        """Labelled run-to-failure lives of assets of this type (events without a component:
        the asset's own failures), ending inside [since, until]. Each replacement or failure
        starts a new life, so an asset that failed twice gives two."""
        p.require_manufacturer("models are trained by the manufacturer")
        lives = self._events.lives(p, type_id)
        return in_window([x for x in lives if x.failed and x.component is None], since, until)

    def save_artifact(
        self, p: Principal, key: str, model_id: str, model: Any, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Store a fitted model under ``key`` (a type id, ``TYPE:health``, ``TYPE:reliability``);
        a copy is written to the artefacts folder to look at."""
        p.require_manufacturer("models are trained by the manufacturer")
        type_id = key.split(":")[0]
        folder = Path(self._artifacts_dir) / type_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{model_id}.pkl"
        artifact = pickle.dumps(model)
        path.write_bytes(artifact)  # a copy to look at; the database keeps the one that loads
        body = {**body, "path": str(path.resolve())}
        body["version"] = self._models.save_model(model_id, key, body, artifact)
        self._forecasts.invalidate(key)
        return {**body, "id": model_id}

    def train(
        self,
        p: Principal,
        type_id: str,
        *,
        validation_share: float = 0.2,
        random_state: int = 0,
        estimator_params: dict[str, Any] | None = None,
        min_lives: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Fit a sensor RUL model for ``type_id`` from stored run-to-failure histories; store the artefact."""

        from prognos.analytics.rul import MODEL_NAME

        p.require_manufacturer("models are trained by the manufacturer")
        t = self._registry.asset_type(p, type_id)
        need = self._settings.min_lives if min_lives is None else min_lives
        lives = self.failure_lives(p, type_id, since, until)
        if len(lives) < need:
            raise ModelError(
                f"asset type {type_id!r} has {len(lives)} labelled run-to-failure "
                f"{'life' if len(lives) == 1 else 'lives'}; a sensor RUL model needs at least "
                f"{need}",
                hint="load failures with `prognos events load` (or record them through work-"
                "order findings); with fewer, `prognos reliability fit` forecasts from the "
                "events alone (PROGNOS_MIN_LIVES / --min-lives sets the minimum)",
            )
        if progress:
            progress("reading histories", 0, 1)
        table = life_table(self._readings, self._assets_of(type_id), t, lives)
        if progress:
            progress("reading histories", 1, 1)
        if len(table.lives) < need:
            raise ModelError(
                f"asset type {type_id!r}: only {len(table.lives)} of {len(lives)} lives have "
                f"readings on the channels most lives report; {need} are needed",
                hint=f"left out: {table.left_out()}",
            )
        params = estimator_params if estimator_params is not None else self._settings.rul_params
        data = table.data
        rng = np.random.default_rng(random_state)
        units = np.array(sorted(data["unit"].unique()))
        held = set(
            rng.choice(units, size=max(1, int(len(units) * validation_share)), replace=False)
        )
        tr, va = data[~data["unit"].isin(held)], data[data["unit"].isin(held)]

        def make():
            return rul_model(table.settings, table.sensors, params, random_state)

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
        body = {
            "model": MODEL_NAME,
            "units": len(units),
            "rows": len(data),
            "settings": table.settings,
            "sensors": table.sensors,
            "left_out": table.left_out(),
            "min_lives": need,
            "window": {
                "since": since.isoformat() if since else None,
                "until": until.isoformat() if until else None,
            },
            "estimator_params": params,
            "train_seconds": round(seconds, 2),
            "data_start": min(x.start for x in table.lives).isoformat(),
            "data_end": max(x.end for x in table.lives).isoformat(),
            "metrics": metrics,
            "time_unit": t.time_unit.value,
        }
        return self.save_artifact(p, type_id, model_id, model, body)

    def train_classifier(
        self,
        p: Principal,
        type_id: str,
        *,
        horizon: float | None = None,
        folds: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[str, Any]:
        """Fit the type's P(failure within ``horizon``) classifier from its labelled failures
        and readings (``failure_training``); stored only when it beats the baselines by
        out-of-fold AUC."""
        from prognos.service.failure_training import censored_lives, fit_classifier

        p.require_manufacturer("models are trained by the manufacturer")
        t = self._registry.asset_type(p, type_id)
        failed = self.failure_lives(p, type_id, since, until)
        if not failed:
            raise ModelError(f"asset type {type_id!r} has no labelled failure to learn from",
                             hint="load failures with `prognos events load`")  # fmt: skip
        h = self._settings.failure_horizon if horizon is None else horizon
        assets = self._assets_of(type_id)
        lives, evs = self._events.lives(p, type_id), self._events.of_type(p, type_id)
        censored = in_window(censored_lives(self._readings, assets, lives, evs), since, until)
        model, card = fit_classifier(
            self._readings, assets, t, failed, censored, horizon=h,
            folds=folds or self._settings.failure_folds, fit_health=fit_health,
            early_life=early_life,
        )  # fmt: skip
        if not card["beats_baselines"]:
            return {"skipped": "its out-of-fold AUC does not beat the health score's, the "
                    "age's and 0.6", "validation": card}  # fmt: skip
        model_id = f"{type_id}-within-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        body = {"model": "failure-within-classifier", **card}
        return self.save_artifact(p, f"{type_id}:classifier", model_id, model, body)

    def classifier_card(self, p: Principal, type_id: str) -> dict[str, Any] | None:
        """The stored failure classifier's card (its validation), or None."""
        p.require_manufacturer("models are trained by the manufacturer")
        return self._models.latest_model(f"{type_id}:classifier")

    @staticmethod
    def _validate(model, va: pd.DataFrame, rng: np.random.Generator) -> dict[str, float]:
        """RMSE and 90 % coverage at random truncation points of held-out units (the test situation)."""
        rows = []
        for _unit, g in va.groupby("unit"):
            n = len(g)  # a life may be shorter than five rows (tabular sets, short runs)
            for cut in rng.integers(min(max(5, n // 10), n), n + 1, size=3):
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
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[str, Any]:
        """Fit a type's health model from its assets' lives (``health_fit.fit_health``),
        readings inside [since, until] only.

        A life is one part's readings from installation to its failure (labelled failures:
        run-to-failure histories, failures recorded through work orders) or to now (the current
        life of each asset), indexed by age. Its first ``baseline_rows`` readings and first day
        are its healthy period. Failed lives validate the choice of anomaly detector and say
        which channels drift with wear. ``healthy_share`` is kept for callers of before; the
        baseline is readings and hours (``PROGNOS_HEALTH_BASELINE_*``), not a share of a life.
        """
        from prognos.analytics.health_fit import fit_health as fit_lives
        from prognos.analytics.health_rule import RuleParams

        p.require_manufacturer("models are trained by the manufacturer")
        t = self._registry.asset_type(p, type_id)
        assets = self._assets_of(type_id)
        labels = self.failure_lives(p, type_id, since, until)
        lives: list[pd.DataFrame] = []
        failed: list[bool] = []
        ended = set()
        for i, life in enumerate(labels):
            a = assets.get(life.asset_id)
            if a is None:
                continue
            f = asset_frame(self._readings, a, t, start=life.start, end=life.end)
            if not f.empty:
                lives.append(f)
                failed.append(True)
                if life.number == 0:
                    ended.add(a.id)  # its first life ended: no current life from installation
            if progress:
                progress("reading lives for health", i + 1, len(labels))
        for a in assets.values():  # current lives, not yet ended
            if a.id in ended:
                continue
            start = max(a.installed_at, since) if since else None
            f = asset_frame(self._readings, a, t, start=start, end=until)
            if len(f) >= 10:
                lives.append(f)
                failed.append(False)
        if not lives:
            raise ModelError(
                f"no telemetry for assets of type {type_id!r} to learn healthy behaviour from"
            )
        # a model needs every column on every row: the channels most lives have, and the
        # lives lacking one left out (both named on the card)
        frames = [lf.dropna(axis=1, how="all") for lf in lives]
        kept, left_out = _majority_channels(frames)
        if not kept:
            raise ModelError(
                f"no life of type {type_id!r} has the channels most of them report",
                hint="check the channel names of the ingested files (prognos ingest file --dry-run)",
            )
        whole = [i for i, f in enumerate(frames) if set(kept[0].columns) <= set(f.columns)]
        failed = [failed[i] for i in whole]
        lives = [by_age(frames[i][kept[0].columns], t.time_unit.seconds) for i in whole]
        columns = pd.concat([lf.iloc[:5] for lf in lives]).columns
        settings = [c for c in setting_channels(t) if c in columns]
        varies = pd.concat([lf.iloc[: self._health["baseline_rows"]] for lf in lives]).std()
        channels = [c for c in columns if c not in settings and varies.get(c, 0.0) > 1e-9]
        lives = [lf.reindex(columns=settings + channels).ffill().dropna() for lf in lives]
        model = fit_lives(
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
            "left_out": left_out,
        }
        body["version"] = self._models.save_model(model_id, f"{type_id}:health", body, artifact)
        self._forecasts.invalidate(f"{type_id}:health")
        return {**body, "id": model_id}


def early_life(frames: list[pd.DataFrame], healthy_share: float = 0.25) -> list[pd.DataFrame]:
    """The first ``healthy_share`` of each life frame long enough to have one (10 rows)."""
    return [f.iloc[: max(5, int(len(f) * healthy_share))] for f in frames if len(f) >= 10]


def fit_health(frames: list[pd.DataFrame], t) -> tuple[Any, dict[str, Any]]:
    """A health model fitted on early-life frames of a type, and its card (without an id)."""
    from prognos.analytics.health import HealthModel

    frames, left_out = _majority_channels(frames)
    data = pd.concat(frames, ignore_index=True).drop(columns=["unit", "cycle"])
    settings = [c for c in setting_channels(t) if c in data.columns]
    channels = [c for c in data.columns if c not in settings and data[c].std() > 1e-9]
    model = HealthModel(settings=settings).fit(data[settings + channels])
    body = {
        "rows": len(data),
        "channels": channels,
        "settings": settings,
        "assets": len(frames),
        "left_out": left_out,
    }
    return model, body


def _majority_channels(frames: list[pd.DataFrame]) -> tuple[list[pd.DataFrame], dict]:
    """The frames on the channels more than half of them have; a frame lacking one is left out
    (a model needs every column on every row), and both are named."""
    counts = pd.Series([c for f in frames for c in f.columns]).value_counts()
    keep = [c for c in frames[0].columns.union(counts.index) if counts.get(c, 0) > len(frames) / 2]
    kept = [f[keep] for f in frames if all(c in f.columns for c in keep)]
    lacking = sorted(
        {str(f["unit"].iloc[0]) for f in frames if not all(c in f.columns for c in keep)}
    )
    dropped = sorted(set(counts.index) - set(keep))
    return kept, {"channels": dropped, "assets": lacking}
