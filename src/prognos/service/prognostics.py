"""Prognostics in the platform: train from stored telemetry, forecast each asset, keep history.

Training data are the run-to-failure histories the platform knows of: assets of a type with a
labelled failure event (a C-MAPSS run-to-failure unit, or a work order whose findings record a
failure or a replacement). Each asset's readings become rows of (unit, age, channels) where age
is counted in the type's time unit from installation. Fitted models are pickled artefacts with
their training range and validation metrics, versioned per asset type in the store.
"""

from __future__ import annotations

import dataclasses
import logging
import pickle
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from prognos.domain import Asset, AssetType, FailureForecast, HealthScore
from prognos.errors import ModelError, NotFound
from prognos.service.platform import Platform

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


def setting_channels(t: AssetType) -> list[str]:
    """Channels that describe operating conditions, not health (used to find regimes)."""
    return [
        c.name
        for c in t.channels
        if c.name.startswith("setting") or "operating setting" in c.description
    ]


def asset_frame(
    platform: Platform,
    asset: Asset,
    t: AssetType,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pd.DataFrame:
    """One life of an asset as a wide frame: ``unit``, ``cycle`` (age in the type's unit), channels.

    The life starts at ``start`` (default: the asset's installation or last part replacement).
    """
    start = start or asset.installed_at
    long = platform.store.read_telemetry(asset.id, start=start, end=end)
    if long.empty:
        return pd.DataFrame()
    return life_frame(_wide(long), asset, t, start)


def _wide(long: pd.DataFrame) -> pd.DataFrame:
    """Readings as a table: time down, a column per channel (the last reading of a repeat)."""
    return long.pivot_table(
        index="ts", columns="channel", values="value", aggfunc="last"
    ).sort_index()


def life_frame(
    wide: pd.DataFrame, asset: Asset, t: AssetType, start: datetime | None = None
) -> pd.DataFrame:
    """``asset_frame`` from readings already pivoted (``wide_frames``)."""
    start = start or asset.installed_at
    wide = wide.ffill().dropna()
    if wide.empty:
        return pd.DataFrame()
    age = (wide.index - pd.Timestamp(start)).total_seconds() / t.time_unit.seconds
    wide.insert(0, "cycle", np.round(np.asarray(age, dtype=float), 6))
    wide.insert(0, "unit", asset.id)
    return wide.reset_index(drop=True)


def wide_frames(platform: Platform, assets: list[Asset]) -> dict[str, pd.DataFrame]:
    """Each asset's readings since its installation, pivoted (``_wide``), from one query and
    one pivot for all of them: per asset, the query and the pivot cost more than the model."""
    long = platform.store.read_telemetry_many([a.id for a in assets])
    if long.empty:
        return {}
    starts = {a.id: pd.Timestamp(a.installed_at) for a in assets}
    long = long[long["ts"] >= long["asset_id"].map(starts)]
    both = long.pivot_table(
        index=["asset_id", "ts"], columns="channel", values="value", aggfunc="last"
    ).sort_index()
    # an asset lacking a channel the others have must not get an all-empty column for it
    return {
        str(aid): w.droplevel(0).dropna(axis=1, how="all")
        for aid, w in both.groupby(level=0, sort=False)
    }


def failure_lives(platform: Platform, type_id: str) -> dict[str, tuple[datetime, float]]:
    """Labelled failures of assets of this type: life id -> (life start, age at failure).

    A life id is the asset id, suffixed with the failure's date when an asset failed more than
    once (each replacement starts a new life).
    """
    assets = {a.id: a for a in platform.store.list_assets(type_id=type_id)}
    out: dict[str, tuple[datetime, float]] = {}
    for ev in platform.store.list_documents("event", status="failure"):
        a = assets.get(ev["asset_id"])
        if a is None or ev.get("age") is None:
            continue
        start = datetime.fromisoformat(ev["life_start"]) if ev.get("life_start") else a.installed_at
        life = a.id if a.id not in out else f"{a.id}@{ev['at'][:10]}"
        out[life] = (start, float(ev["age"]))
    return out


def train(
    platform: Platform,
    type_id: str,
    *,
    validation_share: float = 0.2,
    random_state: int = 0,
    estimator_params: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Fit a sensor RUL model for ``type_id`` from stored run-to-failure histories; store the artefact."""
    from prognos.analytics.rul import MODEL_NAME, RulEstimator, SensorRulModel

    t = platform.asset_type(type_id)
    labels = failure_lives(platform, type_id)
    if len(labels) < 5:
        raise ModelError(
            f"asset type {type_id!r} has {len(labels)} run-to-failure histories; at least 5 are needed",
            hint="load some (prognos ingest cmapss) or record failures through work-order findings",
        )
    frames = []
    assets = {a.id: a for a in platform.store.list_assets(type_id=type_id)}
    for i, life in enumerate(sorted(labels)):
        start, age = labels[life]
        f = asset_frame(platform, assets[life.split("@")[0]], t, start=start)
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
    held = set(rng.choice(units, size=max(1, int(len(units) * validation_share)), replace=False))
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
    if progress:
        progress("validating on held-out units", 0, 2)
    check = make().fit(tr.drop(columns=["rul"]), tr["rul"].to_numpy())
    metrics = _validate(check, va, rng)
    if progress:
        progress("training on all units", 1, 2)
    model = make().fit(data.drop(columns=["rul"]), data["rul"].to_numpy())
    if progress:
        progress("training on all units", 2, 2)
    seconds = time.perf_counter() - t0

    model_id = f"{type_id}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    folder = Path(platform.settings.artifacts_dir) / type_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{model_id}.pkl"
    path.write_bytes(pickle.dumps(model))
    times = [platform.store.telemetry_span(life.split("@")[0]) for life in labels]
    body = {
        "model": MODEL_NAME,
        "path": str(path),
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
    body["version"] = platform.store.save_model(model_id, type_id, body)
    platform.forecaster.invalidate(type_id)
    return {**body, "id": model_id}


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
    platform: Platform, type_id: str, healthy_share: float = 0.25, progress: Progress | None = None
) -> dict[str, Any]:
    """Fit a health model on the first ``healthy_share`` of every asset's life of this type.

    Early life is the closest thing to "known healthy" that telemetry alone gives; assets with a
    labelled failure contribute their early cycles too.
    """
    from prognos.analytics.health import HealthModel

    t = platform.asset_type(type_id)
    assets = platform.store.list_assets(type_id=type_id)
    frames = []
    for i, a in enumerate(assets):
        f = asset_frame(platform, a, t)
        if len(f) >= 10:
            frames.append(f.iloc[: max(5, int(len(f) * healthy_share))])
        if progress:
            progress("reading early life for health", i + 1, len(assets))
    if not frames:
        raise ModelError(
            f"no telemetry for assets of type {type_id!r} to learn healthy behaviour from"
        )
    data = pd.concat(frames, ignore_index=True).drop(columns=["unit", "cycle"])
    settings = [c for c in setting_channels(t) if c in data.columns]
    channels = [c for c in data.columns if c not in settings and data[c].std() > 1e-9]
    model = HealthModel(settings=settings).fit(data[settings + channels])
    model_id = f"{type_id}-health-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    folder = Path(platform.settings.artifacts_dir) / type_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{model_id}.pkl"
    path.write_bytes(pickle.dumps(model))
    body = {
        "model": "health-robust-mahalanobis",
        "path": str(path),
        "rows": len(data),
        "channels": channels,
        "settings": settings,
        "assets": len(frames),
    }
    body["version"] = platform.store.save_model(model_id, f"{type_id}:health", body)
    platform.forecaster.invalidate(f"{type_id}:health")
    return {**body, "id": model_id}


def wear_forecast(platform: Platform, asset: Asset, t: AssetType) -> FailureForecast | None:
    """For types with a wear channel and a failure threshold: extrapolate this asset's own trend."""
    from prognos.analytics.wear import WearTrendModel

    if not t.failure_threshold:
        return None
    channel, threshold = next(iter(t.failure_threshold.items()))
    long = platform.store.read_telemetry(asset.id, [channel], start=asset.installed_at)
    if len(long) < 5:
        return None
    age = (
        long["ts"] - pd.Timestamp(asset.installed_at)
    ).dt.total_seconds().to_numpy() / t.time_unit.seconds
    model = WearTrendModel(threshold=threshold, form="power", n_samples=2000, random_state=0)
    model.fit(age[:, None], long["value"].to_numpy())
    as_of = long["ts"].iloc[-1].to_pydatetime()
    return model.forecast(
        asset.id, as_of=as_of, t_now=float(age[-1]), time_unit=t.time_unit.value, component=None
    )


class Forecaster:
    """Loads the newest model of each asset type and turns an asset's history into a forecast."""

    def __init__(self, platform: Platform):
        self.platform = platform
        self._models: dict[str, tuple[dict, Any]] = {}

    def invalidate(self, type_id: str | None = None) -> None:
        if type_id is None:
            self._models.clear()
        else:
            self._models.pop(type_id, None)

    def model_for(self, type_id: str) -> tuple[dict, Any] | None:
        if type_id not in self._models:
            meta = self.platform.store.latest_model(type_id)
            if meta is None:
                return None
            self._models[type_id] = (meta, pickle.loads(Path(meta["path"]).read_bytes()))
        return self._models[type_id]

    def forecast(self, asset: Asset, save: bool = True) -> FailureForecast | None:
        """The newest forecast of ``asset`` (wear trend if its type has a threshold, else the
        type's sensor model); also refreshes its health score when a health model exists."""
        f, h = self.assess(asset)
        if save:
            self.save([f] if f else [], [h] if h else [])
        return f

    def assess(self, asset: Asset) -> tuple[FailureForecast | None, HealthScore | None]:
        """Forecast and health of ``asset`` from its stored history; writes nothing, so many
        assets can be saved in one transaction (``save``)."""
        t = self.platform.asset_type(asset.type_id)
        h = self.health(asset, t, save=False)
        if t.failure_threshold:
            return wear_forecast(self.platform, asset, t), h
        loaded = self.model_for(asset.type_id)
        if loaded is None:
            return None, h
        meta, model = loaded
        frame = asset_frame(self.platform, asset, t)
        if frame.empty:
            return None, h
        as_of = pd.Timestamp(asset.installed_at) + pd.Timedelta(
            seconds=float(frame["cycle"].iloc[-1]) * t.time_unit.seconds
        )
        f = model.forecast(
            frame, asset.id, as_of=as_of.to_pydatetime(), time_unit=t.time_unit.value
        )
        f = dataclasses.replace(
            f,
            model_version=f"{meta['id']}",
            component=None,
            extra={
                **f.extra,
                "model_version_number": meta["version"],
                "age": float(frame["cycle"].iloc[-1]),
            },
        )
        return f, h

    def save(self, forecasts: list[FailureForecast], healths: list[HealthScore]) -> None:
        """Store forecasts and health scores, a transaction each, and raise the alarms the
        scores call for."""
        self.platform.store.save_forecasts(forecasts)
        self.platform.store.save_healths(healths)
        for h in healths:
            if h.anomalies:
                raise_health_alarm(self.platform, h)

    def health(
        self, asset: Asset, t: AssetType, save: bool = True, wide: pd.DataFrame | None = None
    ) -> HealthScore | None:
        """Health of ``asset`` now from its recent readings (``wide``: already pivoted)."""
        loaded = self.model_for(f"{asset.type_id}:health")
        if loaded is None:
            return None
        _meta, model = loaded
        if wide is None:
            long = self.platform.store.read_telemetry(asset.id, start=asset.installed_at)
            if long.empty:
                return None
            wide = _wide(long)
        cols = list(model.settings) + [
            c for c in model.feature_names_in_ if c not in model.settings
        ]
        wide = wide.reindex(columns=cols).ffill().dropna().iloc[-max(model.window, 1) * 3 :]
        if wide.empty:
            return None
        h = model.health(wide[cols], asset.id, as_of=wide.index[-1].to_pydatetime())
        if save:
            self.save([], [h])
        return h


def raise_health_alarm(platform: Platform, h) -> dict[str, Any] | None:
    """One alarm per asset and day while channels are anomalous (silenced inside maintenance)."""
    from prognos.service.panel.orders import raise_alarm

    alarm_id = f"al-{h.asset_id}-{h.as_of:%Y%m%d}"
    if platform.store.get_document("alarm", alarm_id) is not None:
        return None
    worst = max(h.anomalies, key=lambda c: abs(h.anomalies[c]))
    message = f"{worst} unusual (z {h.anomalies[worst]:+.1f}); health {h.score:.0f}/100"
    severity = "critical" if h.score < 40 else "warning"
    return raise_alarm(platform, h.asset_id, message, h.anomalies, severity, h.as_of, alarm_id)


def forecast_fleet(
    platform: Platform,
    asset_ids: list[str] | None = None,
    *,
    dask_address: str | None = None,
    progress: Progress | None = None,
    chunk: int = 200,
) -> dict[str, Any]:
    """Forecast many assets: in-process by default, on a Dask cluster with ``dask_address``.

    The service reads each asset's history (the store stays on this side); Dask workers receive
    the model once (scattered) and chunks of frames, and return quantiles.
    """
    store = platform.store
    wanted = set(asset_ids) if asset_ids is not None else None
    everything = [a for a in store.list_assets() if wanted is None or a.id in wanted]
    types = {t.id: t for t in store.list_asset_types()}
    own_trend = [a for a in everything if types[a.type_id].failure_threshold]
    assets = [
        a
        for a in everything
        if not types[a.type_id].failure_threshold
        and platform.forecaster.model_for(a.type_id) is not None
    ]
    if not assets and not own_trend:
        raise NotFound(
            "no asset has a trained model for its type",
            hint="run `prognos train --asset-type TYPE` first",
        )
    trend: list[FailureForecast] = []
    trend_health: list[HealthScore] = []
    for i, a in enumerate(own_trend):  # wear trends are fitted per asset, on its own history
        f, h = platform.forecaster.assess(a)
        trend += [f] if f else []
        trend_health += [h] if h else []
        if progress:
            progress("wear trends", i + 1, len(own_trend))
    platform.forecaster.save(trend, trend_health)
    t0 = time.perf_counter()
    by_type: dict[str, list[Asset]] = {}
    for a in assets:
        by_type.setdefault(a.type_id, []).append(a)
    done = 0
    results: list[FailureForecast] = []
    healths: list[HealthScore] = []
    client = None
    if dask_address:
        from distributed import Client

        client = Client(dask_address)
    try:
        for type_id, group in by_type.items():
            meta, model = platform.forecaster.model_for(type_id)
            # models pickled before the lower tail existed claim the old straight line
            shape = getattr(model, "lower_tail_shape", 1.0)
            t = platform.asset_type(type_id)
            remote_model = client.scatter(model, broadcast=True) if client else None
            futures = []
            for i in range(0, len(group), chunk):
                part = group[i : i + chunk]
                wides = wide_frames(platform, part)
                frames = [(a.id, life_frame(wides[a.id], a, t)) for a in part if a.id in wides]
                frames = [(aid, f) for aid, f in frames if not f.empty]
                healths += [
                    h
                    for a in part
                    if a.id in wides
                    and (h := platform.forecaster.health(a, t, save=False, wide=wides[a.id]))
                ]
                if client:
                    futures.append(
                        (
                            part,
                            client.submit(
                                _score_chunk, remote_model, frames, t.time_unit.value, pure=False
                            ),
                        )
                    )
                else:
                    results += _to_forecasts(
                        _score_chunk(model, frames, t.time_unit.value), part, t, meta, shape
                    )
                    done += len(part)
                    if progress:
                        progress("forecasting", done, len(assets))
            for part, fut in futures:
                results += _to_forecasts(fut.result(), part, t, meta, shape)
                done += len(part)
                if progress:
                    progress("forecasting", done, len(assets))
    finally:
        if client is not None:
            client.close()
    platform.forecaster.save(results, healths)
    return {
        "assets": len(results) + len(trend),
        "seconds": round(time.perf_counter() - t0, 3),
        "engine": "dask" if dask_address else "in-process",
    }


def _score_chunk(
    model, frames: list[tuple[str, pd.DataFrame]], time_unit: str
) -> dict[str, tuple[float, list[float]]]:
    """Runs on a Dask worker too: quantiles at the last row of each frame, by asset id."""
    if not frames:
        return {}
    data = pd.concat([f.assign(unit=aid) for aid, f in frames], ignore_index=True)
    q = model.predict_quantiles_last(data)
    ages = {aid: float(f["cycle"].iloc[-1]) for aid, f in frames}
    return {aid: (ages[aid], [float(v) for v in q.loc[aid].to_numpy()]) for aid in q.index}


def _to_forecasts(
    scored, part: list[Asset], t: AssetType, meta: dict, lower_tail_shape: float = 1.0
) -> list[FailureForecast]:
    from prognos.domain.forecast import DEFAULT_LEVELS

    out = []
    for a in part:
        if a.id not in scored:
            continue
        age, values = scored[a.id]
        as_of = (
            pd.Timestamp(a.installed_at) + pd.Timedelta(seconds=age * t.time_unit.seconds)
        ).to_pydatetime()
        out.append(
            FailureForecast(
                a.id,
                as_of,
                DEFAULT_LEVELS,
                tuple(values),
                t.time_unit.value,
                meta.get("model", ""),
                meta["id"],
                None,
                extra={"model_version_number": meta["version"], "age": age},
                lower_tail_shape=lower_tail_shape,
            )
        )
    return out
