"""Benchmark: the telemetry layout. ``prognos bench store`` appends a fleet's readings in time
order (as they arrive: every asset's interleaved) and times per-asset range scans, then
compacts the store (``prognos store compact``) and times them again.

    prognos bench store --json                            # DuckDB, 1,000 assets x 10 channels x 1,000 ticks
    prognos bench store --json --store postgres-temp      # a throwaway PostgreSQL 15

Appends go through the commit half of ingest (``TelemetryService.store_checked``, what a
worker calls once a batch is validated) in batches of ``--batch-ticks`` ticks of the whole
fleet (40,000 readings by default, an MQTT batch of 2,000 messages), validation left out: the
ingest benchmark measures that path. The scans, each on ``--queries`` random assets:

* ``history``: all of one asset's readings (what training and forecasting read);
* ``recent``: its last tenth of the time range, every channel (a chart of the last days);
* ``chart``: min/max/mean buckets of four channels over its whole history (the asset page).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from typing import Any

import numpy as np

from prognos.domain.keys import MANUFACTURER as M


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
    from prognos.config import Settings
    from prognos.domain import ReadingBatch
    from prognos.service.platform import open_platform
    from prognos.service.telemetry import CheckedReadings

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

    def scans(t) -> dict[str, dict[str, float]]:
        timed: dict[str, list[float]] = {"history": [], "recent": [], "chart": []}
        four = list(channel_ids[:4])
        for a in picks:
            for name, call in (
                ("history", lambda a=a: t.history(M, a)),
                ("recent", lambda a=a: t.history(M, a, start=recent.astype(object))),
                ("chart", lambda a=a: t.series(M, a, four, max_points=300)["channels"]),
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

    with throwaway_store(store) as (db, label), tempfile.TemporaryDirectory() as art:
        platform = open_platform(Settings(db=db, artifacts_dir=art, refresh_interval=0))
        try:
            register_fleet(platform, asset_ids, channel_ids)
            t = platform.telemetry
            registry = platform.registry.snapshot()
            t0 = time.perf_counter()
            with Progress(transient=True) as bar:
                task = bar.add_task("appending", total=ticks)
                for first in range(0, ticks, batch_ticks):
                    n = min(batch_ticks, ticks - first)
                    t.store_checked(CheckedReadings(batch(first, n), [], "bench", registry))
                    bar.advance(task, n)
            append_s = time.perf_counter() - t0
            readings = t.count(M)
            if readings != per_tick * ticks:
                raise RuntimeError(f"stored {readings} readings, expected {per_tick * ticks}")
            t.history(M, str(picks[0]))  # warm caches alike for both rounds
            before = scans(t)
            t0 = time.perf_counter()
            t.compact(M)
            compact_s = time.perf_counter() - t0
            disk = t.disk_bytes(M)
            t.history(M, str(picks[0]))
            after = scans(t)
        finally:
            platform.close()
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
        # after compaction; PostgreSQL: telemetry partitions with their indexes, DuckDB: the
        # whole database file
        "disk_bytes_per_million_readings": round(disk / readings * 1e6),
        "compacted": after,
        "speedup_p50": {
            k: round(before[k]["p50_ms"] / max(after[k]["p50_ms"], 1e-6), 1) for k in before
        },
        "load_avg_1m_before": round(load_before, 2),
        "cpus": os.cpu_count(),
    }


def register_fleet(platform, asset_ids: np.ndarray, channel_ids: np.ndarray) -> None:
    """One customer, site and asset type with the benchmark's channels, and its assets."""
    from datetime import UTC, datetime

    from prognos.domain import Asset, AssetType, Channel, Customer, Site

    platform.registry.add_asset_type(
        M,
        AssetType(id="bench", channels=[Channel(name=c, min=-1e9, max=1e9) for c in channel_ids]),
    )
    platform.registry.add_customer(M, Customer(id="bench", name="Bench"))
    platform.registry.add_site(M, Site(id="bench-site", customer_id="bench", name="Bench"))
    platform.registry.add_assets(
        M,
        [
            Asset(
                id=str(a),
                customer_id="bench",
                site_id="bench-site",
                type_id="bench",
                installed_at=datetime(2025, 1, 1, tzinfo=UTC),
            )
            for a in asset_ids
        ],
    )
