"""Benchmark: the telemetry layout. ``prognos bench store`` appends a fleet's readings in time
order (as they arrive: every asset's interleaved) and times per-asset range scans, then
compacts the store (``prognos store compact``) and times them again.

    prognos bench store --json                            # DuckDB, 1,000 assets x 10 channels x 1,000 ticks
    prognos bench store --json --store postgres-temp      # a throwaway PostgreSQL 15

Appends go straight to ``Store.write_readings`` in batches of ``--batch-ticks`` ticks of the
whole fleet (40,000 readings by default, an MQTT batch of 2,000 messages), validation left out:
the ingest benchmark measures that path. The scans, each on ``--queries`` random assets:

* ``history``: all of one asset's readings (what training and forecasting read);
* ``recent``: its last tenth of the time range, every channel (a chart of the last days);
* ``chart``: min/max/mean buckets of four channels over its whole history (the asset page).
"""

from __future__ import annotations

import statistics
import time
from typing import Annotated, Any

import numpy as np
import typer

from prognos.bench._output import emit


def register(bench_app: typer.Typer) -> None:
    @bench_app.command("store")
    def bench_store(
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        store: Annotated[
            str,
            typer.Option(help="duckdb (a temporary file), postgres-temp or a postgresql:// URL."),
        ] = "duckdb",
        assets: Annotated[int, typer.Option(help="Assets in the fleet.")] = 1000,
        channels: Annotated[int, typer.Option(help="Channels per asset.")] = 10,
        ticks: Annotated[int, typer.Option(help="Readings per asset and channel.")] = 1000,
        batch_ticks: Annotated[int, typer.Option(help="Ticks of the whole fleet a batch.")] = 4,
        queries: Annotated[int, typer.Option(help="Random assets each scan is timed on.")] = 30,
    ) -> None:
        """Append rate, and per-asset range scans before and after compaction."""
        result = run(store, assets, channels, ticks, batch_ticks, queries)
        emit(result, as_json=as_json, title="telemetry layout: appends and per-asset scans")


def run(
    store: str = "duckdb",
    n_assets: int = 1000,
    n_channels: int = 10,
    ticks: int = 1000,
    batch_ticks: int = 4,
    queries: int = 30,
    seed: int = 0,
) -> dict[str, Any]:
    import os

    from rich.progress import Progress

    from prognos.bench._stores import throwaway_store
    from prognos.domain import ReadingBatch
    from prognos.store import open_store

    asset_ids = np.array([f"unit-{i:05d}" for i in range(n_assets)], dtype=object)
    channel_ids = np.array([f"ch{c:02d}" for c in range(n_channels)], dtype=object)
    start = np.datetime64("2026-01-01T00:00:00", "us")
    step = np.timedelta64(60, "s")  # a reading a minute
    rng = np.random.default_rng(seed)
    per_tick = n_assets * n_channels
    load_before = os.getloadavg()[0]

    def batch(first: int, n: int) -> ReadingBatch:
        t = np.repeat(np.arange(first, first + n), per_tick)
        return ReadingBatch(
            np.tile(np.repeat(asset_ids, n_channels), n),
            np.tile(channel_ids, n_assets * n),
            start + t * step,
            rng.normal(50.0, 5.0, len(t)),
        )

    picks = rng.choice(asset_ids, size=min(queries, n_assets), replace=False)
    recent = start + int(ticks * 0.9) * step

    def scans(s) -> dict[str, dict[str, float]]:
        timed: dict[str, list[float]] = {"history": [], "recent": [], "chart": []}
        for a in picks:
            for name, call in (
                ("history", lambda a=a: s.read_telemetry(a)),
                ("recent", lambda a=a: s.read_telemetry(a, start=recent.astype(object))),
                (
                    "chart",
                    lambda a=a: s.downsample(a, list(channel_ids[:4]), None, None, 300),
                ),
            ):
                t0 = time.perf_counter()
                out = call()
                timed[name].append((time.perf_counter() - t0) * 1000)
                if len(out) == 0:
                    raise RuntimeError(f"{name} scan of {a} found nothing")
        return {
            k: {
                "p50_ms": round(statistics.median(v), 2),
                "p95_ms": round(float(np.percentile(v, 95)), 2),
            }
            for k, v in timed.items()
        }

    with throwaway_store(store) as (db, label):
        s = open_store(db)
        try:
            t0 = time.perf_counter()
            with Progress(transient=True) as bar:
                task = bar.add_task("appending", total=ticks)
                for first in range(0, ticks, batch_ticks):
                    n = min(batch_ticks, ticks - first)
                    s.write_readings(batch(first, n))
                    bar.advance(task, n)
            append_s = time.perf_counter() - t0
            readings = s.count_readings()
            if readings != per_tick * ticks:
                raise RuntimeError(f"stored {readings} readings, expected {per_tick * ticks}")
            s.read_telemetry(str(picks[0]))  # warm caches alike for both rounds
            before = scans(s)
            t0 = time.perf_counter()
            s.compact_telemetry()
            compact_s = time.perf_counter() - t0
            s.read_telemetry(str(picks[0]))
            after = scans(s)
        finally:
            s.close()
    return {
        "store": label,
        "readings": readings,
        "assets": n_assets,
        "channels": n_channels,
        "readings_per_asset": n_channels * ticks,
        "batch_readings": per_tick * batch_ticks,
        "append_readings_per_s": round(readings / append_s),
        "interleaved": before,
        "compact_seconds": round(compact_s, 2),
        "compacted": after,
        "speedup_p50": {
            k: round(before[k]["p50_ms"] / max(after[k]["p50_ms"], 1e-6), 1) for k in before
        },
        "load_avg_1m_before": round(load_before, 2),
        "cpus": os.cpu_count(),
    }
