"""Benchmark: forecast -- scoring a whole fleet with ``forecast_fleet``, in process and on Dask.

    prognos bench forecast --json                      # 10,000 in-service turbofans
    prognos bench forecast --json --dask-workers 2     # and again on a 2-worker LocalCluster

A temporary DuckDB platform gets the C-MAPSS FD001 fleet (``load_cmapss_fleet``: 100 train
units that ran to failure, 100 test units in service), a sensor RUL model trained on the train
units with small LightGBM settings (:data:`SMALL`: the bench measures scoring, not training) and,
with ``--health``, the health model. Then ``--assets`` new engines join: engine ``i`` replays
test unit ``i mod 100`` cut at a random cycle (so ages vary), its history ending today, ingested
through ``Platform.ingest_batch`` in large batches. The models are trained before the new engines
join, so training reads 200 histories whatever ``--assets`` is.

``forecast_fleet`` then scores exactly the new engines. The phase split comes from the real run:
the store's ``read_telemetry``, the RUL model's ``predict_quantiles_last``, the health model's
``health`` and the store's two bulk saves are wrapped on their instances (timing only, nothing
else changes), and the run's own progress calls tell the RUL loop from the health-and-save tail.
What no wrapper covers (pivoting histories into frames, building forecast objects, alarms) is
reported as ``other``. The Dask run uses no wrappers.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from prognos.domain.keys import MANUFACTURER

SMALL = {"n_estimators": 40, "n_folds": 3, "num_leaves": 7}
MIN_CYCLES = 20
BATCH_ASSETS = 500

Progress = Callable[[str, int, int], None]


def _noop(_label: str, _done: int, _total: int) -> None:
    return None


def _load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


# -- the fleet --------------------------------------------------------------------------------
def add_fleet(platform, n_assets: int, seed: int = 0, progress: Progress = _noop) -> dict[str, Any]:
    """``n_assets`` in-service turbofans replaying FD001 test units cut at random cycles."""
    import numpy as np

    from prognos.analytics.cmapss import SENSORS, SETTINGS, load_subset
    from prognos.demo.turbofans import AIRLINES, TURBOFAN
    from prognos.domain import Asset, ReadingBatch

    rng = np.random.default_rng(seed)
    cols = [*SETTINGS, *SENSORS]
    test = load_subset("FD001").test
    units = [g[cols].to_numpy(dtype=float) for _, g in test.groupby("unit", sort=True)]
    now = datetime.now(UTC).replace(microsecond=0)
    naive_now = np.datetime64(now.replace(tzinfo=None), "us")
    day = np.timedelta64(86_400_000_000, "us")
    ids, source, cycles = [], [], []
    for i in range(n_assets):
        u = units[i % len(units)]
        ids.append(f"fleet-{i:05d}")
        source.append(u)
        cycles.append(int(rng.integers(min(MIN_CYCLES, len(u)), len(u) + 1)))
    assets = []
    for i, (aid, k) in enumerate(zip(ids, cycles, strict=True)):
        cid = AIRLINES[i % len(AIRLINES)][0]
        assets.append(
            Asset(
                id=aid,
                customer_id=cid,
                site_id=f"{cid}-hangar",
                type_id=TURBOFAN,
                serial=f"FLEET-{i:05d}",
                model="CFM-sim FD001",
                installed_at=now - timedelta(days=k),
            )
        )
    platform.registry.add_assets(MANUFACTURER, assets)
    accepted = rejected = 0
    for lo in range(0, n_assets, BATCH_ASSETS):
        part = range(lo, min(lo + BATCH_ASSETS, n_assets))
        values = np.concatenate([source[i][: cycles[i]] for i in part])
        rows = np.array([cycles[i] for i in part])
        # cycle c of an engine with k cycles lies k - c days before now (the last one is today)
        ages = np.concatenate([np.arange(cycles[i], 0, -1) - 1 for i in part])
        ts = naive_now - ages * day
        res = platform.telemetry.ingest_batch(
            MANUFACTURER,
            ReadingBatch(
                np.repeat(
                    np.repeat(np.array([ids[i] for i in part], dtype=object), rows), len(cols)
                ),
                np.tile(np.array(cols, dtype=object), len(values)),
                np.repeat(ts, len(cols)),
                values.reshape(-1),
            ),
            source="bench:forecast",
        )
        accepted += res.accepted
        rejected += len(res.rejected)
        progress("ingesting the fleet", part.stop, n_assets)
    return {
        "ids": ids,
        "readings": accepted,
        "rejected": rejected,
        "cycles_mean": float(np.mean(cycles)),
    }


# -- timing hooks -----------------------------------------------------------------------------
class _Phases:
    """Seconds spent in wrapped methods, split by the stage of ``forecast_fleet`` they ran in."""

    def __init__(self) -> None:
        self.stage = "rul"
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.rul_loop_end: float | None = None

    def progress(self, label: str, done: int, total: int) -> None:
        if label == "forecasting" and done >= total:
            self.stage = "health"
            self.rul_loop_end = time.perf_counter()

    def _add(self, key: str, dt: float) -> None:
        self.seconds[key] = self.seconds.get(key, 0.0) + dt
        self.calls[key] = self.calls.get(key, 0) + 1

    @contextlib.contextmanager
    def hooks(self, targets: list[tuple[Any, str, str]]) -> Iterator[None]:
        """Wrap ``obj.method`` as an instance attribute for the duration; removed afterwards."""
        wrapped = []
        for obj, name, label in targets:
            inner = getattr(obj, name)

            def timed(*args, _inner=inner, _label=label, **kwargs):
                t = time.perf_counter()
                try:
                    return _inner(*args, **kwargs)
                finally:
                    self._add(f"{self.stage}.{_label}", time.perf_counter() - t)

            setattr(obj, name, timed)
            wrapped.append((obj, name))
        try:
            yield
        finally:
            for obj, name in wrapped:
                delattr(obj, name)


def _split(ph: _Phases, t0: float, t_end: float) -> dict[str, float]:
    """Where the scoring time went, whichever stage of ``forecast_fleet`` spent it."""

    def total(label: str) -> float:
        return sum(v for k, v in ph.seconds.items() if k.split(".", 1)[1] == label)

    out = {
        "total": t_end - t0,
        "reading_histories": total("read"),
        "rul_model": total("score"),
        "health_model": total("health"),
        "saving": total("save_forecasts") + total("save_healths"),
    }
    out["pivots_and_other"] = out["total"] - sum(v for k, v in out.items() if k != "total")
    return {k: round(v, 3) for k, v in out.items()}


# -- the run ----------------------------------------------------------------------------------
def _check(platform, ids: list[str]) -> tuple[dict[str, Any], dict[str, tuple]]:
    latest = platform.forecasts.latest_of(MANUFACTURER, ids)
    ordered = all(f.p10 <= f.p50 <= f.p90 for f in latest.values())
    return (
        {
            "forecasts": len(latest),
            "all_assets_forecast": len(latest) == len(ids),
            "p10_le_p50_le_p90": ordered,
            "healths": len(platform.forecasts.latest_health_of(MANUFACTURER, ids)),
        },
        {a: tuple(f.values) for a, f in latest.items()},
    )


def _score_dask(platform, ids, workers: int, chunk: int, progress: Progress) -> dict[str, Any]:
    from distributed import LocalCluster

    t = time.perf_counter()
    with LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    ) as cluster:
        start_s = time.perf_counter() - t
        load = _load()
        t0, c0 = time.perf_counter(), time.process_time()
        out = platform.scoring.score_fleet(
            MANUFACTURER,
            ids,
            dask_address=cluster.scheduler_address,
            progress=progress,
            chunk=chunk,
        )
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - c0
    return {
        "workers": workers,
        "cluster_start_seconds": round(start_s, 2),
        "score_seconds": round(seconds, 2),
        "assets_per_s": round(out["assets"] / seconds, 1),
        "client_cpu_seconds": round(cpu, 2),
        "load_average_before": load,
    }


def run(
    n_assets: int = 10_000,
    *,
    health: bool = True,
    dask_workers: int = 0,
    chunk: int = 200,
    seed: int = 0,
    folder: Path | None = None,
    train_units: int | None = None,
    progress: Progress = _noop,
) -> dict[str, Any]:
    """Build the platform, train, score the fleet in process (and on Dask); numbers as a dict.

    ``train_units`` keeps only the first units of each C-MAPSS split for training (tests).
    """
    from prognos.config import Settings
    from prognos.demo.turbofans import load_cmapss_fleet
    from prognos.service.platform import open_platform

    with contextlib.ExitStack() as stack:
        if folder is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="prognos-bench-")))
        p = open_platform(Settings(db=str(folder / "bench.duckdb"), artifacts_dir=folder / "art"))
        stack.callback(p.close)
        out: dict[str, Any] = {"assets": n_assets, "load_average_start": _load()}

        t = time.perf_counter()
        base = load_cmapss_fleet(p, "FD001", progress=progress, max_units=train_units)
        base_s = time.perf_counter() - t

        t = time.perf_counter()
        card = p.training.train(MANUFACTURER, "turbofan", estimator_params=SMALL, progress=progress)
        if health:
            p.training.train_health(MANUFACTURER, "turbofan", progress=progress)
        out["train_seconds"] = round(time.perf_counter() - t, 2)
        out["estimator_params"] = SMALL
        out["val_rmse"] = round(card["metrics"]["val_rmse"], 2)

        t = time.perf_counter()
        fleet = add_fleet(p, n_assets, seed, progress)
        fleet_s = time.perf_counter() - t
        ids = fleet["ids"]
        out["readings"] = fleet["readings"]
        out["rejected"] = fleet["rejected"]
        out["cycles_mean"] = round(fleet["cycles_mean"], 1)
        out["setup_seconds"] = round(base_s + fleet_s, 2)
        out["setup"] = {
            "cmapss_base_seconds": round(base_s, 2),
            "cmapss_base_readings": base["readings"],
            "fleet_seconds": round(fleet_s, 2),
            "fleet_readings_per_s": round(fleet["readings"] / fleet_s),
        }

        meta_model = p.forecasts.model_for("turbofan")
        targets = [
            *p.scoring.phase_targets(),
            (meta_model[1], "predict_quantiles_last", "score"),
        ]
        if health:
            targets.append((p.forecasts.model_for("turbofan:health")[1], "health", "health"))
        ph = _Phases()

        def tracked(label: str, done: int, total: int) -> None:
            ph.progress(label, done, total)
            progress(label, done, total)

        out["load_average_before_score"] = _load()
        with ph.hooks(targets):
            t0, c0 = time.perf_counter(), time.process_time()
            scored = p.scoring.score_fleet(MANUFACTURER, ids, progress=tracked, chunk=chunk)
            t_end = time.perf_counter()
            cpu = time.process_time() - c0
        out["score_seconds"] = round(t_end - t0, 2)
        out["score_cpu_seconds"] = round(cpu, 2)
        out["assets_per_s"] = round(scored["assets"] / (t_end - t0), 1)
        out["ms_per_asset"] = round(1000 * (t_end - t0) / n_assets, 2)
        out["phases_seconds"] = _split(ph, t0, t_end)
        out["history_queries"] = sum(n for k, n in ph.calls.items() if k.endswith(".read"))
        out["chunk"] = chunk
        out["health"] = health
        out["alarms"] = sum(p.alarms.counts(MANUFACTURER).values())
        sanity, local = _check(p, ids)
        out["sanity"] = sanity

        if dask_workers:
            out["dask"] = _score_dask(p, ids, dask_workers, chunk, progress)
            sanity, remote = _check(p, ids)
            same = remote.keys() == local.keys() and all(
                max(abs(x - y) for x, y in zip(local[a], remote[a], strict=True))
                <= 1e-9 * max(1.0, max(abs(x) for x in local[a]))
                for a in local
            )
            out["dask"]["sanity"] = {**sanity, "matches_in_process": same}
        out["load_average_end"] = _load()
        return out


def register(bench_app: typer.Typer) -> None:
    """Add `prognos bench forecast`."""

    @bench_app.command("forecast")
    def forecast(
        assets: int = typer.Option(10_000, "--assets", min=1, help="In-service engines to score."),
        health: bool = typer.Option(
            True, "--health/--no-health", help="Train the health model and score health too."
        ),
        dask_workers: int = typer.Option(
            0,
            "--dask-workers",
            min=0,
            help="Also score on a LocalCluster of K processes (0: skip).",
        ),
        chunk: int = typer.Option(200, "--chunk", min=1, help="Assets per scoring chunk."),
        seed: int = typer.Option(0, "--seed", help="Seed of the random history cuts."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Fleet scoring: forecast_fleet over N engines, phase split, optionally on Dask."""
        from prognos.bench._output import emit, progress_bars

        kwargs = {"health": health, "dask_workers": dask_workers, "chunk": chunk, "seed": seed}
        if as_json:
            result = run(assets, **kwargs)
        else:
            with progress_bars() as bar:
                result = run(assets, progress=bar, **kwargs)
        emit(result, as_json=as_json, title=f"prognos bench forecast ({assets} assets)")
