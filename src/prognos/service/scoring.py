"""Fleet scoring: every asset's forecast and health, a chunk of assets at a time.

Histories are read a chunk at a time (one query and one pivot, shared by the RUL and health
models); on a Dask cluster the model is scattered once and chunks of frames go to the workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from prognos.domain import Asset, AssetType, FailureForecast, HealthScore, Principal
from prognos.errors import NotFound
from prognos.service.forecasts import ForecastService
from prognos.service.frames import life_frame, wide_frames
from prognos.service.registry import RegistryService
from prognos.store.ports import ReadingsPort

Progress = Callable[[str, int, int], None]


class ScoringService:
    """Scores the fleet (``prognos forecast``, the demo, the nightly refresh)."""

    def __init__(
        self, readings: ReadingsPort, registry: RegistryService, forecasts: ForecastService
    ):
        self.readings = readings
        self.registry = registry
        self.forecasts = forecasts

    def phase_targets(self) -> list[tuple[object, str, str]]:
        """(object, method, phase) of the reads and writes fleet scoring makes, for a profiler
        to wrap (``prognos bench forecast`` splits its time by them)."""
        return [
            (self.readings, "read_telemetry", "read"),
            (self.readings, "read_telemetry_many", "read"),
            (self.forecasts.store_port, "save_forecasts", "save_forecasts"),
            (self.forecasts.store_port, "save_healths", "save_healths"),
        ]

    def score_fleet(
        self,
        p: Principal,
        asset_ids: list[str] | None = None,
        *,
        dask_address: str | None = None,
        progress: Progress | None = None,
        chunk: int = 200,
    ) -> dict[str, Any]:
        """Forecast and score every asset (or ``asset_ids``) and save the results."""
        p.require_manufacturer("fleet scoring writes every customer's forecasts")
        return forecast_fleet(
            self, asset_ids, dask_address=dask_address, progress=progress, chunk=chunk
        )


def forecast_fleet(
    scoring: ScoringService,
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
    registry = scoring.registry.snapshot()
    forecaster = scoring.forecasts
    wanted = set(asset_ids) if asset_ids is not None else None
    everything = [
        a
        for a in sorted(registry.assets.values(), key=lambda a: a.id)
        if wanted is None or a.id in wanted
    ]
    types = registry.types
    own_trend = [a for a in everything if types[a.type_id].failure_threshold]
    assets = [
        a
        for a in everything
        if not types[a.type_id].failure_threshold and forecaster.model_for(a.type_id) is not None
    ]
    if not assets and not own_trend:
        raise NotFound(
            "no asset has a trained model for its type",
            hint="run `prognos train --asset-type TYPE` first",
        )
    trend: list[FailureForecast] = []
    trend_health: list[HealthScore] = []
    for i, a in enumerate(own_trend):  # wear trends are fitted per asset, on its own history
        f, h = forecaster.assess(a)
        trend += [f] if f else []
        trend_health += [h] if h else []
        if progress:
            progress("wear trends", i + 1, len(own_trend))
    forecaster.save(trend, trend_health)
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
            meta, model = forecaster.model_for(type_id)
            # models pickled before the lower tail existed claim the old straight line
            shape = getattr(model, "lower_tail_shape", 1.0)
            t = types[type_id]
            remote_model = client.scatter(model, broadcast=True) if client else None
            futures = []
            for i in range(0, len(group), chunk):
                part = group[i : i + chunk]
                wides = wide_frames(scoring.readings, part)
                frames = [(a.id, life_frame(wides[a.id], a, t)) for a in part if a.id in wides]
                frames = [(aid, f) for aid, f in frames if not f.empty]
                healths += [
                    h
                    for a in part
                    if a.id in wides and (h := forecaster.health(a, t, wide_frame=wides[a.id]))
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
    forecaster.save(results, healths)
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
