"""Fleet scoring: every asset's forecast and health, a chunk of assets at a time.

Each chunk is read in one query, pivoted once, scored by one call of each model and saved
before the next is read (``fleet_scoring``); on a Dask cluster the workers read and score
the chunks themselves and the client saves.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from prognos.domain import Asset, AssetType, FailureForecast, HealthScore, Principal
from prognos.errors import Conflict, NotFound
from prognos.service import fleet_scoring
from prognos.service.forecasts import ForecastService
from prognos.service.registry import RegistryService
from prognos.store.ports import ReadingsPort

Progress = Callable[[str, int, int], None]
log = logging.getLogger(__name__)


class ScoringService:
    """Scores the fleet (``prognos forecast``, the demo, the nightly refresh)."""

    def __init__(
        self,
        readings: ReadingsPort,
        registry: RegistryService,
        forecasts: ForecastService,
        db: str | None = None,
    ):
        self.readings = readings
        self.registry = registry
        self.forecasts = forecasts
        self.db = db  # the database Dask workers read unless told otherwise

    def phase_targets(self) -> list[tuple[object, str, str]]:
        """(object, method, phase) of the reads and writes fleet scoring makes, for a profiler
        to wrap (``prognos bench forecast`` splits its time by them)."""
        return [
            (self.readings, "read_telemetry_coded", "read"),
            (fleet_scoring, "prepare_chunk", "prepare"),
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
        read_from: str | None = None,
    ) -> dict[str, Any]:
        """Forecast and score every asset (or ``asset_ids``) and save the results; on Dask the
        workers read ``read_from`` (default: this store)."""
        p.require_manufacturer("fleet scoring writes every customer's forecasts")
        return forecast_fleet(
            self,
            asset_ids,
            dask_address=dask_address,
            progress=progress,
            chunk=chunk,
            read_from=read_from,
        )

    def assess(self, assets: list[Asset]) -> tuple[list[FailureForecast], list[HealthScore]]:
        """Forecasts and health of ``assets`` now, not saved (the refresher saves them): the
        assets of types with a sensor RUL model by the fleet path, one read and one call of
        each model per type (what ``ForecastService.assess`` gives each on its own, at a
        hundredth of the cost), the others (wear trends, failure classifiers) one at a time.

        One asset that cannot be forecast is logged and skipped; a type's batch that fails is
        retried one asset at a time, so one bad history costs its own forecast only."""
        snap = self.registry.snapshot()
        batched: dict[str, list[Asset]] = {}
        single: list[Asset] = []
        for a in assets:
            t = snap.types.get(a.type_id)
            if t is None:
                continue
            if not t.failure_threshold and self.forecasts.model_for(a.type_id) is not None:
                batched.setdefault(a.type_id, []).append(a)
            else:
                single.append(a)
        forecasts: list[FailureForecast] = []
        healths: list[HealthScore] = []
        for type_id, group in batched.items():
            models = type_models(self.forecasts, type_id)
            try:
                scored = fleet_scoring.score_chunk(
                    self.readings, group, snap.types[type_id], models
                )
            except Exception:
                log.exception(
                    "forecast of %d %s assets at once failed; one at a time", len(group), type_id
                )
                single += group
                continue
            forecasts += scored.forecasts
            healths += scored.health
        for a in single:
            try:
                f, h = self.forecasts.assess(a)
            except Exception:
                log.exception("forecast of %s failed", a.id)
                continue
            forecasts += [f] if f is not None else []
            healths += [h] if h is not None else []
        return forecasts, healths

    def copy_for_workers(self, p: Principal, folder: Path) -> str | None:
        """What Dask workers should read: None for PostgreSQL (they read it themselves); for a
        DuckDB file, which this process holds for writing, a copy in ``folder`` made after a
        checkpoint (nothing may write meanwhile)."""
        p.require_manufacturer("a copy of the database holds every customer's readings")
        if self.db is None or self.db.startswith(("postgresql://", "postgres://")):
            return None
        self.readings.checkpoint()
        copy = Path(folder) / "workers.duckdb"
        shutil.copyfile(self.db, copy)
        return str(copy)


def forecast_fleet(
    scoring: ScoringService,
    asset_ids: list[str] | None = None,
    *,
    dask_address: str | None = None,
    progress: Progress | None = None,
    chunk: int = 200,
    read_from: str | None = None,
) -> dict[str, Any]:
    """Forecast many assets: in-process by default, on a Dask cluster with ``dask_address``.

    Each chunk of ``chunk`` assets is read in one query and scored by one call of each model,
    and saved before the next is read (``fleet_scoring.score_fleet``); the results equal
    ``ForecastService.assess`` one asset at a time. On Dask the workers read and score (models
    sent once), from the database ``read_from`` names (default: the platform's): PostgreSQL, or
    a DuckDB file no process writes to.
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
    db = _worker_db(scoring.db, read_from) if dask_address else None
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
    groups = []
    for type_id, group in by_type.items():
        groups.append((types[type_id], type_models(forecaster, type_id), group))
    scored = fleet_scoring.score_fleet(
        scoring.readings,
        groups,
        forecaster.save,
        chunk=chunk,
        dask_address=dask_address,
        read_from=db,
        progress=progress,
    )
    return {
        "assets": scored + len(trend),
        "seconds": round(time.perf_counter() - t0, 3),
        "engine": "dask" if dask_address else "in-process",
    }


def type_models(forecaster: ForecastService, type_id: str) -> fleet_scoring.TypeModels:
    """A type's newest RUL model (it must have one) and health model, as fleet scoring uses them."""
    meta, model = forecaster.model_for(type_id)
    health = forecaster.model_for(f"{type_id}:health")
    return fleet_scoring.TypeModels(meta, model, health[1] if health else None)


def _worker_db(own: str | None, read_from: str | None) -> str:
    """The database Dask workers read: ``read_from`` or this store's, unless that is a DuckDB
    file this process holds for writing (DuckDB then lets no other process read it)."""
    db = read_from or own
    if db is None:
        raise Conflict(
            "Dask workers need a database to read, and this store has no address",
            hint="give the workers one (--dask-db: PostgreSQL, or a copy of a DuckDB file)",
        )
    if db.startswith(("postgresql://", "postgres://")):
        return db
    if own is not None and (own == ":memory:" or Path(db).resolve() == Path(own).resolve()):
        raise Conflict(
            f"Dask workers cannot read the DuckDB file {own}: this process holds it for "
            "writing, and DuckDB lets no other process open a file while one writes it",
            hint="use PostgreSQL (PROGNOS_DB=postgresql://...) to score on a cluster, or give "
            "the workers a copy of the file that no process writes to (--dask-db COPY)",
        )
    return str(Path(db).resolve())


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
    """Forecasts from ``_score_chunk``'s quantiles (``fleet_scoring.to_forecasts``)."""
    return fleet_scoring.to_forecasts(scored, part, t, meta, lower_tail_shape)
