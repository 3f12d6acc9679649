"""Benchmark: forecast -- scoring a whole fleet with ``forecast_fleet``, in process and on Dask.

    prognos bench forecast --json                      # 10,000 in-service turbofans
    prognos bench forecast --json --dask-workers 2     # and again on a 2-worker LocalCluster
    prognos bench forecast --json --dask tcp://HOST:8786 --store postgresql://...  # a cluster

A temporary platform (DuckDB by default, ``--store`` for PostgreSQL) gets the C-MAPSS FD001 fleet
(``load_cmapss_fleet``: 100 train units that ran to failure, 100 test units in service), a
sensor RUL model trained on the train units with small LightGBM settings (:data:`SMALL`: the
bench measures scoring, not training) and, with ``--health``, the health model. Then
``--assets`` new engines join: engine ``i`` replays test unit ``i mod 100`` cut at a random
cycle (so ages vary), its history ending today, ingested through ``Platform.ingest_batch`` in
large batches. The models are trained before the new engines join, so training reads 200
histories whatever ``--assets`` is.

``forecast_fleet`` then scores exactly the new engines. The phase split comes from the real run:
the store's coded read, the chunk preparation (pivot and model inputs), the two models, the
bulk saves and the health alarms are wrapped (timing only, nothing else changes); the chunks
are read, scored and saved one after another, so the phases add up to the total.

On Dask the workers read the store themselves: PostgreSQL directly, a DuckDB file through a copy
made after a checkpoint (the bench holds the file for writing, and DuckDB lets no other process
open it then). Workers are warmed up (imports) before the timed run; the run uses no wrappers.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prognos.bench._phases import Phases, split
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


# -- the run ----------------------------------------------------------------------------------
def _check(platform, ids: list[str]) -> tuple[dict[str, Any], dict[str, tuple]]:
    latest = platform.forecasts.latest_of(MANUFACTURER, ids)
    ordered = all(f.p10 <= f.p50 <= f.p90 for f in latest.values())
    healths = platform.forecasts.latest_health_of(MANUFACTURER, ids)
    return (
        {
            "forecasts": len(latest),
            "all_assets_forecast": len(latest) == len(ids),
            "p10_le_p50_le_p90": ordered,
            "healths": len(healths),
        },
        {
            **{a: tuple(f.values) for a, f in latest.items()},
            **{f"{a}:health": (h.score,) for a, h in healths.items()},
        },
    )


def _same(local: dict[str, tuple], remote: dict[str, tuple]) -> bool:
    return remote.keys() == local.keys() and all(
        max(abs(x - y) for x, y in zip(local[a], remote[a], strict=True))
        <= 1e-9 * max(1.0, max(abs(x) for x in local[a]))
        for a in local
    )


def _workers_copy(platform, folder: Path) -> tuple[str | None, float]:
    """What Dask workers read: a PostgreSQL store itself; of a DuckDB file (which this process
    holds for writing, so no other may open it), a copy made after a checkpoint."""
    t = time.perf_counter()
    copy = platform.scoring.copy_for_workers(MANUFACTURER, folder)
    return copy, round(time.perf_counter() - t, 2)


def _warm_up() -> None:
    """What a fresh worker loads before its first chunk: the scoring code and the models'
    libraries (a second or two each; a long-lived cluster pays it once)."""
    import prognos.analytics.health
    import prognos.analytics.rul
    import prognos.service.fleet_scoring  # noqa: F401


def _score_dask(
    platform, ids, workers: int, address: str | None, chunk: int, folder: Path, progress: Progress
) -> dict[str, Any]:
    from distributed import Client

    read_from, copy_s = _workers_copy(platform, folder)
    with contextlib.ExitStack() as stack:
        t = time.perf_counter()
        if address is None:
            from distributed import LocalCluster

            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",  # a free port: None still takes 8787
                    host="127.0.0.1",
                )
            )
            address = cluster.scheduler_address
        start_s = time.perf_counter() - t
        t = time.perf_counter()
        with Client(address) as client:  # imports on every worker, timed apart from scoring
            client.run(_warm_up)
        warm_s = time.perf_counter() - t
        load = _load()
        t0, c0 = time.perf_counter(), time.process_time()
        out = platform.scoring.score_fleet(
            MANUFACTURER,
            ids,
            dask_address=address,
            progress=progress,
            chunk=chunk,
            read_from=read_from,
        )
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - c0
    return {
        "scheduler": "LocalCluster" if workers else "given",
        "workers": workers or None,
        "workers_read": "postgresql" if read_from is None else "a copy of the DuckDB file",
        "copy_seconds": copy_s,
        "cluster_start_seconds": round(start_s, 2),
        "worker_warm_up_seconds": round(warm_s, 2),
        "score_seconds": round(seconds, 2),
        "engines_per_s": round(out["assets"] / seconds, 1),
        "client_cpu_seconds": round(cpu, 2),
        "load_average_before": load,
    }


def run(
    n_assets: int = 10_000,
    *,
    health: bool = True,
    dask_workers: int = 0,
    dask_address: str | None = None,
    chunk: int = 500,
    seed: int = 0,
    store: str = "duckdb",
    folder: Path | None = None,
    train_units: int | None = None,
    progress: Progress = _noop,
) -> dict[str, Any]:
    """Build the platform, train, score the fleet in process (and on Dask); numbers as a dict.

    ``store``: ``duckdb`` (a file in ``folder``), ``postgres-temp`` or a postgresql:// URL.
    ``train_units`` keeps only the first units of each C-MAPSS split for training (tests).
    """
    from prognos.bench._stores import throwaway_store
    from prognos.config import Settings
    from prognos.demo.turbofans import load_cmapss_fleet
    from prognos.service.platform import open_platform

    with contextlib.ExitStack() as stack:
        if folder is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="prognos-bench-")))
        db, label = (
            (str(folder / "bench.duckdb"), "duckdb")
            if store == "duckdb"
            else stack.enter_context(throwaway_store(store))
        )
        p = open_platform(Settings(db=db, artifacts_dir=folder / "art"))
        stack.callback(p.close)
        out: dict[str, Any] = {"assets": n_assets, "store": label, "load_average_start": _load()}

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

        targets = [
            *p.scoring.phase_targets(),
            (p.alarms, "observe", "alarms"),
            (p.forecasts.model_for("turbofan")[1], "predict_quantiles_last", "score"),
        ]
        if health:
            targets.append((p.forecasts.model_for("turbofan:health")[1], "health_many", "health"))
        ph = Phases()
        out["load_average_before_score"] = _load()
        with ph.hooks(targets):
            t0, c0 = time.perf_counter(), time.process_time()
            scored = p.scoring.score_fleet(MANUFACTURER, ids, progress=progress, chunk=chunk)
            t_end = time.perf_counter()
            cpu = time.process_time() - c0
        out["score_seconds"] = round(t_end - t0, 2)
        out["score_cpu_seconds"] = round(cpu, 2)
        out["engines_per_s"] = round(scored["assets"] / (t_end - t0), 1)
        out["assets_per_s"] = out["engines_per_s"]
        out["ms_per_asset"] = round(1000 * (t_end - t0) / n_assets, 2)
        out["phases_seconds"] = split(ph, t0, t_end)
        out["history_queries"] = ph.calls.get("read", 0)
        out["chunk"] = chunk
        out["health"] = health
        out["alarms"] = sum(p.alarms.counts(MANUFACTURER).values())
        sanity, local = _check(p, ids)
        out["sanity"] = sanity

        if dask_workers or dask_address:
            out["dask"] = _score_dask(p, ids, dask_workers, dask_address, chunk, folder, progress)
            sanity, remote = _check(p, ids)
            out["dask"]["sanity"] = {**sanity, "matches_in_process": _same(local, remote)}
        out["load_average_end"] = _load()
        return out
