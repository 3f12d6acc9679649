"""`prognos bench forecast` on a small fleet: every engine gets a stored forecast, fields exist."""

from __future__ import annotations

import pytest

from prognos.bench import forecast
from prognos.service import fleet_scoring


def test_bench_forecast_scores_every_asset_and_reports_its_fields(tmp_path):
    out = forecast.run(30, folder=tmp_path, train_units=20)
    assert out["assets"] == 30 and out["readings"] > 0 and out["rejected"] == 0
    for key in ("setup_seconds", "train_seconds", "score_seconds", "assets_per_s"):
        assert out[key] > 0, key
    phases = out["phases_seconds"]
    assert set(phases) == {
        "total",
        "rul_model",
        "health_model",
        "other_main_thread",
        "reading",
        "pivot_and_frames",
        "saving",
        "alarms",
        "rest",
    }
    for key in ("rul_model", "health_model", "reading", "pivot_and_frames", "saving"):
        assert phases[key] > 0, key
    assert phases["rul_model"] + phases["health_model"] < phases["total"]
    # one chunk after another: the hooked phases do not overlap, so they leave a rest >= 0
    assert phases["rest"] >= 0
    assert out["engines_per_s"] == out["assets_per_s"] > 0
    assert out["history_queries"] == 1  # 30 engines: one chunk, one query
    assert out["sanity"] == {
        "forecasts": 30,
        "all_assets_forecast": True,
        "p10_le_p50_le_p90": True,
        "healths": 30,
    }
    assert "dask" not in out
    # the timing hooks are gone afterwards, the module's own function back in place
    assert fleet_scoring.prepare_chunk.__module__ == "prognos.service.fleet_scoring"
    assert fleet_scoring.prepare_chunk.__name__ == "prepare_chunk"


@pytest.mark.integration
def test_bench_forecast_on_dask_workers_reads_a_copy_and_matches_in_process(tmp_path):
    out = forecast.run(12, folder=tmp_path, train_units=20, dask_workers=1, chunk=5)
    dask = out["dask"]
    assert dask["workers"] == 1 and dask["workers_read"] == "a copy of the DuckDB file"
    assert dask["engines_per_s"] > 0 and dask["score_seconds"] > 0
    assert dask["sanity"]["matches_in_process"] is True
    assert dask["sanity"]["forecasts"] == dask["sanity"]["healths"] == 12
