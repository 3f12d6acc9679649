"""Nightly compaction inside the server: at its hour, once a day, only when worth it."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from prognos.domain import ReadingBatch
from prognos.service.workers import CompactionWorker


def _readings(n: int, first_minute: int) -> ReadingBatch:
    ts = np.datetime64("2025-06-01T00:00", "us") + np.arange(
        first_minute, first_minute + n
    ) * np.timedelta64(60, "s")
    assets = np.where(np.arange(n) % 2, "acme-p1", "acme-p2").astype(object)
    return ReadingBatch(assets, np.full(n, "temp", dtype=object), ts, np.ones(n))


def test_it_compacts_at_its_hour_once_a_day_when_enough_came_in(seeded):
    now = [datetime(2026, 3, 1, 1, 30)]
    job = CompactionWorker(seeded.telemetry, hour=3, min_new=100, clock=lambda: now[0])
    assert not job.check()  # 01:30: the baseline is taken, nothing else
    seeded.store.write_readings(_readings(150, 0))
    assert not job.check()  # still not the hour
    now[0] = datetime(2026, 3, 1, 3, 5)
    assert job.check() and job.runs == 1
    assert job.last["readings"] == 150 and job.last["store"] == seeded.store.kind
    seeded.store.write_readings(_readings(150, 150))
    now[0] = datetime(2026, 3, 1, 3, 40)
    assert not job.check()  # once a day
    now[0] = datetime(2026, 3, 2, 3, 0)
    assert job.check() and job.runs == 2 and job.last["readings"] == 300


def test_a_quiet_day_is_skipped(seeded):
    now = [datetime(2026, 3, 1, 3, 0)]
    job = CompactionWorker(seeded.telemetry, hour=3, min_new=100, clock=lambda: now[0])
    seeded.store.write_readings(_readings(99, 0))
    assert not job.check()  # baseline taken at the first check: 99 readings are not new
    seeded.store.write_readings(_readings(99, 99))
    now[0] += timedelta(days=1)
    assert not job.check() and job.runs == 0  # 99 new: fewer than the 100 it waits for
    st = job.status()
    assert {k: st[k] for k in ("running", "hour", "runs", "last", "last_error")} == {
        "running": False,
        "hour": 3,
        "runs": 0,
        "last": None,
        "last_error": None,
    }
    assert st["state"] == "stopped" and st["restarts"] == 0
