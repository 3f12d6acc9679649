"""``prognos bench ingest`` and ``bench store`` on a small fleet: every stream arrives whole, through each publisher,
and the JSON carries the fields docs/benchmarks.md quotes. Speeds are not asserted here."""

from __future__ import annotations

import pytest

from prognos.bench.ingest import run_http, run_mqtt

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("publisher", ["paho", "raw"])
def test_the_mqtt_benchmark_stores_every_reading_it_published(publisher):
    # run_mqtt raises unless the store holds every reading of every platform run
    out = run_mqtt("duckdb", 20, 5, 3, max_batch=50, max_wait_s=0.01, repeat=1, publisher=publisher)
    assert out["readings"] == 20 * 5 * 3 and out["messages"] == 60
    assert out["publisher"] == publisher
    for key in (
        "platform_readings_per_s",
        "broker_readings_per_s",
        "paho_subscriber_readings_per_s",
    ):
        assert out[key] > 0
    # the ratio is printed to three decimals
    assert out["ratio"] == pytest.approx(
        out["platform_readings_per_s"] / out["broker_readings_per_s"], rel=0.01, abs=5e-4
    )


def test_the_http_benchmark_stores_every_reading_it_posted():
    out = run_http("duckdb", 50, 4, 3, concurrency=2)
    assert out["readings"] == 600 and out["http_readings_per_s"] > 0


@pytest.mark.parametrize("store", ["duckdb", "postgres-temp"])
def test_the_store_benchmark_times_scans_before_and_after_compaction(store):
    from prognos.bench.store import run

    out = run(store, n_assets=20, n_channels=3, ticks=40, batch_ticks=4, queries=5)
    assert out["readings"] == 20 * 3 * 40 and out["append_readings_per_s"] > 0
    for layout in ("interleaved", "compacted"):
        assert set(out[layout]) == {"history", "recent", "chart"}
        assert all(v["p50_ms"] > 0 for v in out[layout].values())
