"""`prognos bench forecast` on a small fleet: every engine gets a stored forecast, fields exist."""

from __future__ import annotations

from prognos.bench import forecast


def test_bench_forecast_scores_every_asset_and_reports_its_fields(tmp_path):
    out = forecast.run(30, folder=tmp_path, train_units=20)
    assert out["assets"] == 30 and out["readings"] > 0 and out["rejected"] == 0
    for key in ("setup_seconds", "train_seconds", "score_seconds", "assets_per_s"):
        assert out[key] > 0, key
    phases = out["phases_seconds"]
    assert set(phases) == {
        "total",
        "reading_histories",
        "rul_model",
        "health_model",
        "saving",
        "pivots_and_other",
    }
    assert (
        phases["reading_histories"] > 0 and phases["rul_model"] > 0 and phases["health_model"] > 0
    )
    assert out["history_queries"] == 1  # 30 engines: one chunk, one query
    assert out["sanity"] == {
        "forecasts": 30,
        "all_assets_forecast": True,
        "p10_le_p50_le_p90": True,
        "healths": 30,
    }
    assert "dask" not in out
