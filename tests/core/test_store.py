"""The store contract, run against DuckDB and a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from prognos.domain import FailureForecast, HealthScore, ReadingBatch, Rejection


def _batch(asset: str, n: int, channel: str = "temp", start=datetime(2025, 6, 1)) -> ReadingBatch:
    ts = np.array([np.datetime64(start + timedelta(minutes=i), "us") for i in range(n)])
    return ReadingBatch(
        np.array([asset] * n, dtype=object),
        np.array([channel] * n, dtype=object),
        ts,
        np.arange(n, dtype=float),
    )


def test_migrations_bring_the_schema_to_the_latest_version_and_are_idempotent(platform):
    v = platform.store.migrate()
    assert v >= 2
    assert platform.store.migrate() == v


def test_registry_round_trips(seeded):
    s = seeded.store
    assert [c.id for c in s.list_customers()] == ["acme", "globex"]
    a = s.get_asset("acme-p1")
    assert a.customer_id == "acme" and a.installed_at == datetime(2025, 1, 1, tzinfo=UTC)
    assert s.get_asset_type("pump").channel("temp").max == 150
    assert s.count_assets(customer_id="globex") == 2
    assert [x.id for x in s.list_assets(search="SN-ACME-2")] == ["acme-p2"]


def test_readings_are_stored_once_even_when_sent_twice(seeded):
    s = seeded.store
    assert s.write_readings(_batch("acme-p1", 100)) == 100
    assert s.write_readings(_batch("acme-p1", 150)) == 50  # first 100 are duplicates
    assert s.count_readings() == 150
    df = s.read_telemetry("acme-p1", ["temp"])
    assert len(df) == 150 and df["value"].iloc[-1] == 149.0


def test_readings_come_back_bit_for_bit(seeded):
    # the bulk paths write text (PostgreSQL's COPY) or Arrow (DuckDB): nothing may round
    s = seeded.store
    values = np.array(
        [0.1 + 0.2, 1e-300, 1.7976931348623157e308, -0.0, 123456789.123456789, 2.0**-1074, -1 / 3]
    )
    ts = np.array(
        [
            np.datetime64("2025-06-01T00:00:00.000001", "us") + np.timedelta64(i, "s")
            for i in range(7)
        ]
    )
    s.write_readings(
        ReadingBatch(
            np.array(["acme-p1"] * 7, dtype=object),
            np.array(["temp"] * 7, dtype=object),
            ts,
            values,
        )
    )
    back = s.read_telemetry("acme-p1", ["temp"]).sort_values("ts")
    assert back["value"].to_numpy().tobytes() == values.tobytes()
    assert [t.microsecond for t in back["ts"]] == [1] * 7


def test_several_assets_read_in_one_query_match_one_by_one(seeded):
    s = seeded.store
    s.write_readings(_batch("acme-p1", 30))
    s.write_readings(_batch("acme-p2", 20, "vibration"))
    s.write_readings(_batch("globex-p1", 10))
    many = s.read_telemetry_many(["acme-p1", "acme-p2", "nobody"])
    assert list(many["asset_id"].unique()) == ["acme-p1", "acme-p2"]
    for a in ("acme-p1", "acme-p2"):
        one = s.read_telemetry(a)
        mine = many[many["asset_id"] == a].drop(columns="asset_id").reset_index(drop=True)
        assert mine[["ts", "channel", "value"]].equals(one[["ts", "channel", "value"]]), a
    assert s.read_telemetry_many([]).empty


def test_readings_for_fleet_scoring_come_as_positions_and_match_the_plain_read(seeded):
    s = seeded.store
    s.write_readings(_batch("acme-p1", 30))
    s.write_readings(_batch("acme-p2", 20, "vibration"))
    s.write_readings(_batch("acme-p2", 5, "temp"))
    s.write_readings(_batch("globex-p1", 10))
    ids, channels = ["nobody", "acme-p2", "acme-p1"], ["vibration", "temp"]
    coded = s.read_telemetry_coded(ids, channels)
    assert list(coded.columns) == ["asset", "channel", "ts", "value"]
    assert coded["ts"].dtype == "datetime64[us]" and coded["asset"].dtype == "int32"
    back = pd.DataFrame(
        {
            "asset_id": np.array(ids)[coded["asset"]],
            "ts": coded["ts"].dt.tz_localize("UTC"),
            "channel": np.array(channels)[coded["channel"]],
            "value": coded["value"],
        }
    ).sort_values(["asset_id", "ts", "channel"], ignore_index=True)
    plain = s.read_telemetry_many(["acme-p1", "acme-p2"])
    plain = plain[plain["channel"].isin(channels)].reset_index(drop=True)
    pd.testing.assert_frame_equal(back, plain, check_dtype=False)
    assert len(back) == 30 + 25  # globex-p1 was not asked for
    assert s.read_telemetry_coded([], channels).empty and s.read_telemetry_coded(ids, []).empty


def test_a_duckdb_file_opens_read_only_only_while_nobody_writes_it(tmp_path):
    """Dask workers read a DuckDB file read-only; DuckDB lets no connection read a file while
    another writes it, so that is a clear error, not a lock message."""
    from prognos.errors import Conflict, NotFound
    from prognos.store import open_store

    path = str(tmp_path / "live.duckdb")
    writer = open_store(path)
    writer.write_readings(_batch("acme-p1", 3))
    try:
        with pytest.raises(Conflict, match="open for writing"):
            open_store(path, read_only=True)
    finally:
        writer.close()
    reader = open_store(path, read_only=True)
    try:
        assert len(reader.read_telemetry_coded(["acme-p1"], ["temp"])) == 3
    finally:
        reader.close()
    with pytest.raises(NotFound, match="no database file"):
        open_store(str(tmp_path / "missing.duckdb"), read_only=True)


def test_range_scan_returns_only_the_window(seeded):
    s = seeded.store
    s.write_readings(_batch("acme-p1", 600))
    df = s.read_telemetry(
        "acme-p1", None, datetime(2025, 6, 1, 1, tzinfo=UTC), datetime(2025, 6, 1, 2, tzinfo=UTC)
    )
    assert len(df) == 61
    assert df["ts"].min() == datetime(2025, 6, 1, 1, tzinfo=UTC)


def test_the_last_reading_time_is_kept_per_asset_and_channel(seeded):
    s = seeded.store
    s.write_readings(_batch("acme-p1", 60, "temp"))  # 00:00 .. 00:59
    s.write_readings(_batch("acme-p1", 5, "pressure"))  # a slow channel: 00:00 .. 00:04
    s.write_readings(_batch("globex-p1", 10, "temp"))
    last = s.last_reading_times(["acme-p1", "acme-p2"])
    assert last == {
        ("acme-p1", "temp"): datetime(2025, 6, 1, 0, 59, tzinfo=UTC),
        ("acme-p1", "pressure"): datetime(2025, 6, 1, 0, 4, tzinfo=UTC),
    }
    assert s.last_reading_times([]) == {}


def test_downsampling_keeps_extremes_per_bucket(seeded):
    s = seeded.store
    s.write_readings(_batch("acme-p1", 1000))
    d = s.downsample("acme-p1", ["temp"], None, None, 10)
    assert len(d) == 10
    assert d["min"].min() == 0.0 and d["max"].max() == 999.0
    assert d["count"].sum() == 1000


def test_quarantine_keeps_raw_record_and_reason(seeded):
    s = seeded.store
    s.quarantine(
        [Rejection(3, "value", "NaN is not a reading", {"x": 1}, "test", "acme-p1")],
        "test",
        {"acme-p1": "acme"},
    )
    rows = s.list_quarantine()
    assert rows[0]["reason"] == "NaN is not a reading" and rows[0]["index"] == 3
    assert rows[0]["customer_id"] == "acme" and '"x"' in rows[0]["raw"]
    assert s.list_quarantine(customer_id="globex") == []


def test_forecasts_keep_history_and_latest_wins(seeded):
    s = seeded.store
    t0 = datetime(2025, 6, 1, tzinfo=UTC)
    for k in range(3):
        s.save_forecast(
            FailureForecast(
                "acme-p1", t0 + timedelta(hours=k), (0.1, 0.5, 0.9), (10 - k, 20 - k, 30 - k)
            )
        )
    assert s.latest_forecast("acme-p1").p50 == 18
    assert len(s.forecast_history("acme-p1")) == 3
    assert set(s.latest_forecasts()) == {"acme-p1"}
    s.save_health(HealthScore("acme-p1", t0, 87.5, {"temp": 0.4}, {"temp": 3.2}))
    assert s.latest_health("acme-p1").anomalies == {"temp": 3.2}


def test_many_forecasts_and_scores_in_one_call_replace_their_own_moments(seeded):
    s = seeded.store
    t0 = datetime(2025, 6, 1, tzinfo=UTC)

    def fc(asset: str, hour: int, p50: float) -> FailureForecast:
        return FailureForecast(asset, t0 + timedelta(hours=hour), (0.1, 0.5, 0.9), (1, p50, 99))

    s.save_forecast(fc("acme-p1", 0, 50))
    s.save_forecasts(
        [fc("acme-p1", 0, 40), fc("acme-p1", 1, 30), fc("acme-p2", 0, 70), fc("acme-p2", 0, 60)]
    )
    assert [f.p50 for f in s.forecast_history("acme-p1")] == [30, 40]  # hour 0 replaced
    assert [f.p50 for f in s.forecast_history("acme-p2")] == [60]  # a repeat: the last wins
    s.save_forecasts([])
    s.save_healths(
        [
            HealthScore("acme-p1", t0, 90.0),
            HealthScore("acme-p2", t0, 80.0),
            HealthScore("acme-p1", t0, 85.0),
        ]
    )
    assert s.latest_healths() == {
        "acme-p1": HealthScore("acme-p1", t0, 85.0),
        "acme-p2": HealthScore("acme-p2", t0, 80.0),
    }


def test_health_keeps_a_history_newest_first_and_a_rescore_replaces_its_moment(seeded):
    s = seeded.store
    t0 = datetime(2025, 6, 1, tzinfo=UTC)
    for k, score in enumerate([95.0, 90.0, 71.5]):
        s.save_health(HealthScore("acme-p1", t0 + timedelta(days=k), score))
    s.save_health(HealthScore("acme-p1", t0 + timedelta(days=1), 88.0))  # the same moment again
    s.save_health(HealthScore("globex-p1", t0, 50.0))
    hist = s.health_history("acme-p1")
    assert [h.score for h in hist] == [71.5, 88.0, 95.0]
    assert hist[0].as_of == t0 + timedelta(days=2)
    assert [h.score for h in s.health_history("acme-p1", limit=1)] == [71.5]
    assert s.health_history("nobody") == []


def test_documents_filter_by_customer_and_status(seeded):
    s = seeded.store
    s.put_document(
        "workorder", "w1", {"id": "w1", "status": "proposed"}, "acme", "acme-p1", "proposed"
    )
    s.put_document("workorder", "w2", {"id": "w2", "status": "done"}, "globex", "globex-p1", "done")
    assert [d["id"] for d in s.list_documents("workorder", customer_id="acme")] == ["w1"]
    assert [d["id"] for d in s.list_documents("workorder", status="done")] == ["w2"]
    assert s.delete_document("workorder", "w1") and s.get_document("workorder", "w1") is None


def test_model_versions_increase(seeded):
    s = seeded.store
    assert s.save_model("m1", "pump", {"metrics": {"rmse": 1}}) == 1
    assert s.save_model("m2", "pump", {"metrics": {"rmse": 2}}) == 2
    assert s.latest_model("pump")["id"] == "m2"


def test_a_reading_twice_in_one_batch_is_stored_once_and_the_later_value_wins(seeded):
    s = seeded.store
    t = np.array([np.datetime64("2025-06-01T00:00:00", "us")] * 2)
    batch = ReadingBatch(
        np.array(["acme-p1"] * 2, dtype=object),
        np.array(["temp"] * 2, dtype=object),
        t,
        np.array([1.0, 2.0]),
    )
    assert s.write_readings(batch) == 1
    assert s.read_telemetry("acme-p1")["value"].tolist() == [2.0]
    assert s.write_readings(batch) == 0  # and again: the stored reading stays
