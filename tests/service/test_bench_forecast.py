"""`prognos bench forecast` on a small fleet: every engine gets a stored forecast, fields exist."""

from __future__ import annotations

from prognos.bench import forecast


def test_bench_forecast_scores_every_asset_and_reports_its_fields(tmp_path):
    out = forecast.run(30, folder=tmp_path, train_units=20)
    assert out["assets"] == 30 and out["readings"] > 0 and out["rejected"] == 0
    for key in ("setup_seconds", "train_seconds", "score_seconds", "assets_per_s"):
        assert out[key] > 0, key
    phases = out["phases_seconds"]
    assert {"rul_loop.read_telemetry", "rul_loop.model_scoring", "health_and_save"} <= set(phases)
    assert out["sanity"] == {
        "forecasts": 30,
        "all_assets_forecast": True,
        "p10_le_p50_le_p90": True,
        "healths": 30,
    }
    assert "dask" not in out
