"""Telemetry that grows for years: old readings are dropped (whole months on PostgreSQL), their
hourly rollups stay, and charts over the whole range still answer from them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from prognos.domain import ReadingBatch
from prognos.domain.keys import MANUFACTURER
from prognos.service.workers.upkeep import UpkeepWorker

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _six_hourly(asset_id: str, start: datetime, days: int) -> ReadingBatch:
    hours = np.arange(0, days * 24, 6)
    ts = np.array([np.datetime64(start.replace(tzinfo=None), "us")] * len(hours)) + (
        hours * 3600 * 10**6
    ).astype("timedelta64[us]")
    return ReadingBatch(
        np.array([asset_id] * len(hours), dtype=object),
        np.array(["temp"] * len(hours), dtype=object),
        ts,
        (hours % 100).astype(float),
    )


def test_old_readings_are_dropped_their_rollups_kept_and_charts_still_answer(seeded):
    p = seeded
    start = datetime(2026, 6, 1, tzinfo=UTC)
    days = (NOW - start).days  # June to November
    batch = _six_hourly("acme-p1", start, days)
    assert p.telemetry.ingest_batch(MANUFACTURER, batch).accepted == len(batch)
    p.store.ensure_partitions(2)  # PostgreSQL: months for every reading (June was the default's)
    upkeep = UpkeepWorker(
        p.store,
        p.registry,
        retention_days=60,
        retention_days_by_type={"pump": 60},
        clock=lambda: NOW,
    )
    out = upkeep.run_once()
    assert out["hours_rolled"] == len(batch)  # one reading per hour that has any
    cutoff = NOW - timedelta(days=60)
    raw = p.telemetry.history(MANUFACTURER, "acme-p1")
    assert len(raw) == int((batch.ts >= np.datetime64(cutoff.replace(tzinfo=None))).sum())
    assert raw["ts"].min() >= cutoff
    if p.store_kind == "postgresql":  # June to August went whole, as partitions
        assert {"telemetry_p202606", "telemetry_p202607", "telemetry_p202608"} <= set(
            out["partitions_dropped"]
        )
        assert not any(n in dict(p.store.partitions()) for n in out["partitions_dropped"])
    # the whole range still answers: from the rollups where the readings are gone
    first, last, n = p.telemetry.span(MANUFACTURER, "acme-p1")
    assert first == start and n == len(batch)
    s = p.telemetry.series(MANUFACTURER, "acme-p1", max_points=50)
    temp = s["channels"]["temp"]
    assert sum(temp["count"]) == len(batch)
    assert min(temp["min"]) == 0.0 and max(temp["max"]) == float((batch.value).max())
    assert temp["ts"][0] < cutoff.isoformat()  # buckets before the cutoff, from rollups
    # a second round finds nothing more to do
    again = upkeep.run_once()
    assert again["hours_rolled"] == 0 and again["readings_deleted"] == 0


def test_rollups_answer_as_the_raw_readings_would(seeded):
    p = seeded
    start = datetime(2026, 9, 1, tzinfo=UTC)
    p.telemetry.ingest_batch(MANUFACTURER, _six_hourly("acme-p2", start, 40))
    raw = p.store.downsample("acme-p2", None, None, None, 20)  # nothing rolled up yet: raw
    UpkeepWorker(p.store, p.registry, clock=lambda: NOW).run_once()
    rolled = p.store.downsample("acme-p2", None, None, None, 20)  # buckets over 48 h: rollups
    assert rolled["count"].tolist() == raw["count"].tolist()
    np.testing.assert_allclose(rolled["mean"], raw["mean"])
    assert rolled["max"].tolist() == raw["max"].tolist()


@pytest.mark.parametrize("late_days", [10])
def test_a_late_reading_into_a_rolled_hour_is_rolled_again(seeded, late_days):
    p = seeded
    start = datetime(2026, 10, 1, tzinfo=UTC)
    p.telemetry.ingest_batch(MANUFACTURER, _six_hourly("acme-p1", start, 20))
    upkeep = UpkeepWorker(p.store, p.registry, clock=lambda: NOW)
    upkeep.run_once()
    late = start + timedelta(days=late_days, minutes=30)  # an hour already rolled up
    p.telemetry.ingest_batch(
        MANUFACTURER,
        ReadingBatch(
            np.array(["acme-p1"], dtype=object),
            np.array(["temp"], dtype=object),
            np.array([np.datetime64(late.replace(tzinfo=None), "us")]),
            np.array([99.5]),
        ),
    )
    assert upkeep.run_once()["hours_rolled"] == 1
    hour = late.replace(minute=0)
    h = p.store.hourly("acme-p1", ["temp"], hour, hour + timedelta(hours=1))
    assert h["n"].tolist() == [2] and h["vmax"].tolist() == [99.5]
