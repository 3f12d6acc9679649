"""Fleet scoring, a chunk of assets at a time: one read, one pivot, one call of each model.

A chunk's readings come in one query, as positions rather than strings
(``Store.read_telemetry_coded``), are pivoted for all its assets at once
(``analytics.lives.Histories``), and the whole chunk is scored by one
``SensorRulModel.predict_quantiles_last`` and one ``HealthModel.health_many`` call: no frame
per asset. Each asset gets what ``ForecastService.assess`` gives it on its own (tests pin it).

``score_fleet`` reads, scores and saves the chunks one after another in process (overlapping
them in threads measured slower on two cores: see ``score_fleet``). On Dask the workers read
and score (``score_chunk_on_worker`` opens the store itself, read-only) and send back
forecasts, so reading and scoring scale with the workers; the client only lists and saves.
A worker needs ``pip install prognos`` and a way to the database: PostgreSQL, or a DuckDB
file that no process holds for writing (DuckDB lets no process read a file another writes).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from prognos.analytics.lives import Histories
from prognos.domain import Asset, AssetType, FailureForecast, HealthScore
from prognos.domain.forecast import DEFAULT_LEVELS
from prognos.store import open_store
from prognos.store.ports import ReadingsPort

Progress = Callable[[str, int, int], None]
Save = Callable[[list[FailureForecast], list[HealthScore]], None]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class TypeModels:
    """An asset type's models as fleet scoring uses them (sent once to each Dask worker)."""

    card: dict[str, Any]  # the RUL model's stored card: id, version, model
    rul: Any
    health: Any = None

    @property
    def lower_tail_shape(self) -> float:
        # models pickled before the lower tail existed claim the old straight line
        return getattr(self.rul, "lower_tail_shape", 1.0)

    def health_columns(self) -> list[str]:
        h = self.health
        return list(h.settings) + [c for c in h.feature_names_in_ if c not in h.settings]


@dataclass
class ChunkInputs:
    """A chunk ready for the models: the RUL model's long frame (``unit`` is the asset's
    position in the chunk) and the health model's recent rows with each row's asset."""

    life: pd.DataFrame
    recent: pd.DataFrame | None
    recent_owner: np.ndarray
    last_times: np.ndarray  # int64 microseconds, per asset
    baselines: dict[int, Any] = field(default_factory=dict)  # own health baselines, by position


@dataclass
class ChunkScores:
    """A chunk's forecasts and health scores (what a Dask worker sends back)."""

    forecasts: list[FailureForecast] = field(default_factory=list)
    health: list[HealthScore] = field(default_factory=list)


def prepare_chunk(
    store: ReadingsPort, assets: list[Asset], t: AssetType, models: TypeModels
) -> ChunkInputs:
    """Read ``assets``' readings since their installation (one query), pivot them once and cut
    the models' inputs from the pivot."""
    channels = [c.name for c in t.channels]
    long = store.read_telemetry_coded([a.id for a in assets], channels)
    since = _installed(assets)
    hist = Histories.pivot(
        long["asset"].to_numpy(),
        long["channel"].to_numpy(),
        long["ts"].to_numpy(),
        long["value"].to_numpy(),
        len(assets),
        channels,
        since=since,
    )
    life = hist.life_frame(np.arange(len(assets)), since, t.time_unit.seconds)
    recent, owner = None, np.zeros(0, dtype=np.int64)
    baselines: dict[int, Any] = {}
    h = models.health
    if h is not None:
        # three windows, as one asset at a time: the window is of settled readings
        recent, owner = hist.recent_frame(models.health_columns(), max(h.window, 1) * 3)
        if hasattr(h, "baselines_many") and not life.empty:  # each asset's own healthy start
            cols = models.health_columns()
            # each asset's life rows are the last of its pivoted rows, in time order: their
            # exact times (microseconds), for the baseline's first day
            unit = life["unit"].to_numpy()
            n = np.bincount(unit, minlength=len(assets))
            row = (hist.bounds[1:] - n)[unit] + np.arange(len(unit)) - (np.cumsum(n) - n)[unit]
            whole = life.reindex(columns=cols).notna().all(axis=1).to_numpy()
            found = h.baselines_many(
                life.reindex(columns=cols)[whole], unit[whole], hist.ts[row][whole]
            )
            baselines = {int(pos): b for pos, b in found.items()}
    return ChunkInputs(life, recent, owner, hist.last_times(), baselines)


def score_inputs(
    inputs: ChunkInputs, assets: list[Asset], t: AssetType, models: TypeModels
) -> ChunkScores:
    """Forecasts (by ``models.rul``) and health (by ``models.health``, if any) of ``assets`` now:
    one call of each model."""
    ids = [a.id for a in assets]
    out = ChunkScores()
    if not inputs.life.empty:
        ages = inputs.life.groupby("unit", sort=True)["cycle"].last().to_dict()
        q = models.rul.predict_quantiles_last(inputs.life)
        scored = {
            ids[i]: (float(ages[i]), row)
            for i, row in zip(q.index.tolist(), q.to_numpy().tolist(), strict=True)
        }
        out.forecasts = to_forecasts(scored, assets, t, models.card, models.lower_tail_shape)
    if models.health is not None and len(inputs.recent_owner):
        owner = inputs.recent_owner
        out.health = models.health.health_many(
            inputs.recent,
            np.asarray(ids, dtype=object)[owner],
            [_EPOCH + timedelta(microseconds=int(inputs.last_times[g])) for g in np.unique(owner)],
            baselines={ids[k]: b for k, b in inputs.baselines.items()},
        )
    return out


def score_chunk(
    store: ReadingsPort, assets: list[Asset], t: AssetType, models: TypeModels
) -> ChunkScores:
    """Forecasts and health of ``assets`` from ``store``: ``prepare_chunk``, ``score_inputs``."""
    return score_inputs(prepare_chunk(store, assets, t, models), assets, t, models)


def to_forecasts(
    scored: dict[str, tuple[float, list[float]]],
    part: list[Asset],
    t: AssetType,
    card: dict[str, Any],
    lower_tail_shape: float = 1.0,
) -> list[FailureForecast]:
    """Forecasts from (age, quantiles) by asset id; ``as_of`` is the installation plus the age,
    as ``ForecastService.assess`` has it."""
    out = []
    unit = t.time_unit.seconds
    for a in part:
        if a.id not in scored:
            continue
        age, values = scored[a.id]
        # as ForecastService.assess has it; whole seconds (ages in cycles, days) are exact in a
        # timedelta at a tenth of the cost, other ages keep pandas' own rounding
        s = age * unit
        as_of = (
            a.installed_at + timedelta(seconds=s)
            if s.is_integer()
            else (pd.Timestamp(a.installed_at) + pd.Timedelta(seconds=s)).to_pydatetime()
        )
        out.append(
            FailureForecast(
                a.id,
                as_of,
                DEFAULT_LEVELS,
                tuple(values),
                t.time_unit.value,
                card.get("model", ""),
                card["id"],
                None,
                extra={"model_version_number": card["version"], "age": age},
                lower_tail_shape=lower_tail_shape,
            )
        )
    return out


# -- the run, a chunk at a time ---------------------------------------------------------------
Group = tuple[AssetType, TypeModels, list[Asset]]


def score_fleet(
    store: ReadingsPort,
    groups: list[Group],
    save: Save,
    *,
    chunk: int = 200,
    dask_address: str | None = None,
    read_from: str | None = None,
    progress: Progress | None = None,
) -> int:
    """Score each group's assets (of one type, with its models) a chunk at a time and ``save``
    each chunk's results; returns how many forecasts were saved.

    In process the chunks are read, scored and saved one after another: threads that read
    ahead and save behind made a 10,000-engine run slower (24.9-27.1 s serial against 37.7 s
    with both and 55.3 s reading ahead, on 2 busy cores) and cost more CPU (17-18 s against
    21 s), most likely the GIL and the libraries' thread pools contending (docs/bench/forecast.md).
    On Dask (``dask_address``) the workers read from ``read_from`` (a PostgreSQL URL or a
    DuckDB file no process writes to) and score while this process saves what came back.
    """
    total = sum(len(g) for *_, g in groups)
    done = saved = 0
    scored_chunks = (
        _on_dask(groups, chunk, dask_address, read_from)
        if dask_address
        else _in_process(store, groups, chunk)
    )
    for part, scored in scored_chunks:
        save(scored.forecasts, scored.health)
        done += len(part)
        saved += len(scored.forecasts)
        if progress:
            progress("forecasting", done, total)
    return saved


def _in_process(
    store: ReadingsPort, groups: list[Group], chunk: int
) -> Iterator[tuple[list[Asset], ChunkScores]]:
    for t, models, group in groups:
        for i in range(0, len(group), chunk):
            part = group[i : i + chunk]
            yield part, score_chunk(store, part, t, models)


def _on_dask(
    groups: list[Group], chunk: int, address: str, db: str
) -> Iterator[tuple[list[Asset], ChunkScores]]:
    from distributed import Client, as_completed

    with Client(address) as client:
        futures = {}
        for t, models, group in groups:
            [remote] = client.scatter([models], broadcast=True)
            for i in range(0, len(group), chunk):
                part = group[i : i + chunk]
                fut = client.submit(score_chunk_on_worker, db, part, t, remote, pure=False)
                futures[fut] = part
        for fut in as_completed(futures):
            yield futures[fut], fut.result()


# -- on a Dask worker -------------------------------------------------------------------------
_stores: dict[str, ReadingsPort] = {}
_stores_lock = threading.Lock()


def worker_store(db: str) -> ReadingsPort:
    """This process's read-only store for ``db``, opened on first use and kept (a Dask worker
    scores many chunks)."""
    with _stores_lock:
        if db not in _stores:
            _stores[db] = open_store(db, read_only=True)
        return _stores[db]


def score_chunk_on_worker(
    db: str, assets: list[Asset], t: AssetType, models: TypeModels
) -> ChunkScores:
    """``score_chunk`` on a Dask worker, reading from the store ``db`` names."""
    return score_chunk(worker_store(db), assets, t, models)


def _installed(assets: list[Asset]) -> np.ndarray:
    """Installation times as datetime64[us] (exact: whole microseconds since 1970)."""
    us = timedelta(microseconds=1)
    return np.array([(a.installed_at - _EPOCH) // us for a in assets], dtype=np.int64).astype(
        "datetime64[us]"
    )
