"""The fast paths of ingest (orjson, wide records in line, plain ISO times, appends to DuckDB)
give what the general paths give."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from prognos.domain import Principal, ReadingBatch
from prognos.ingest import records
from prognos.ingest.validate import _parse_time_values, _parse_time_values_pandas, validate
from prognos.store.duckdb_store import DuckDBStore, _arrow_batch

MANUFACTURER = Principal(key_id="test", customer_id=None, name="test")


def test_json_that_orjson_refuses_is_read_as_the_standard_parser_reads_it():
    body = b'[{"asset_id": "a", "ts": "2025-06-01T00:00:00Z", "values": {"x": NaN, "y": 1e999}}]'
    df, rej = records.from_json_bytes(body)
    assert rej == [] and np.isnan(df["value"][0]) and np.isinf(df["value"][1])
    df, rej = records.from_json_bytes(b"\xef\xbb\xbf" + body.replace(b"NaN", b"1"))
    assert rej == [] and len(df) == 2


def test_bad_json_is_named_as_before():
    _, [rej] = records.from_json_bytes(b'{"asset_id": "a",', "http")
    assert rej.field == "payload" and rej.reason.startswith("not valid JSON: ")
    assert "line 1 column" in rej.reason


def test_wide_records_in_line_and_one_by_one_give_the_same_table():
    recs = [
        {"asset_id": "a", "ts": "2025-06-01T00:00:00Z", "values": {"x": 1, "y": 2.5}},
        {"asset_id": "b", "ts": "2025-06-01T00:00:01Z", "values": {"x": True, "y": 3.0}},
        {"asset_id": "a", "cycle": 4, "values": {"x": 5.0}},
        {"asset_id": "a", "ts": "2025-06-01T00:00:02Z", "channel": "z", "value": 7},
        {"asset_id": "c", "ts": "2025-06-01T00:00:03Z", "values": {"x": 8.0}},
    ]
    df, rej = records.from_json_records(recs, "http")
    assert [(r.index, r.field) for r in rej] == [(1, "values.x")]
    assert df["record"].tolist() == [0, 0, 1, 2, 3, 4]
    assert df["asset_id"].tolist() == ["a", "a", "b", "a", "a", "c"]
    assert df["channel"].tolist() == ["x", "y", "y", "x", "z", "x"]
    assert df["value"].tolist() == [1.0, 2.5, 3.0, 5.0, 7.0, 8.0]
    assert df["cycle"].tolist() == [None, None, None, 4, None, None]
    assert df["value"].dtype == np.float64 and df["asset_id"].dtype == object
    assert df["channel"].dtype == object and df["ts"].dtype == object


def test_messages_take_record_indices_across_the_batch():
    msgs = [
        ("a", json.dumps({"ts": "2025-06-01T00:00:00Z", "values": {"x": 1.0}}).encode()),
        ("b", b"[]"),
        ("b", json.dumps([{"ts": "2025-06-01T00:00:00Z", "values": {"x": 2.0}}] * 2).encode()),
        ("c", json.dumps({"asset_id": "d", "ts": "2025-06-01T00:00:00Z", "values": {}}).encode()),
    ]
    df, rej = records.from_json_messages(msgs)
    assert df["record"].tolist() == [0, 2, 3] and df["asset_id"].tolist() == ["a", "b", "b"]
    assert [(r.index, r.field) for r in rej] == [(4, "asset_id")]


@pytest.mark.parametrize(
    "value",
    [
        "2025-06-01T00:00:00Z",
        "2025-06-01T02:30:00+02:30",
        "2025-06-01 00:00:00.123456",
        "2025-06-01T00:00Z",
        "2025-06-01T00:00:00.5-01:00",
        "2025-13-01T00:00:00Z",
        "2025-06-01T24:00:00Z",
        "2025-06-01",
        "1748736000",
        "1748736000.25",
        1748736000,
        1748736000.5,
        10**12,
        "yesterday-ish",
    ],
)
def test_plain_iso_times_and_epoch_seconds_are_read_as_pandas_reads_them(value):
    fast = _parse_time_values(np.array([value], dtype=object))
    slow = _parse_time_values_pandas(pd.Series([value], dtype=object)).to_numpy()
    assert fast.dtype == np.dtype("datetime64[us]")
    assert (np.isnat(fast[0]) and np.isnat(slow[0])) or fast[0] == slow[0]


def _registry():
    from prognos.domain import Asset, AssetType, Channel, Registry

    t = AssetType(id="pump", name="Pump", channels=[Channel(name="x", min=0, max=10)])
    a = Asset(
        id="a",
        customer_id="acme",
        site_id="acme-site",
        type_id="pump",
        serial="1",
        installed_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    return Registry.build([a], [t])


def test_validation_names_each_bad_reading():
    recs = [
        {"asset_id": "a", "ts": "2025-06-01T00:00:00Z", "values": {"x": 1.0, "nope": 1.0}},
        {"asset_id": "a", "ts": "2025-06-01T00:00:01Z", "values": {"x": 11.0}},
        {"asset_id": "b", "ts": "2025-06-01T00:00:02Z", "values": {"x": 1.0}},
        {"asset_id": "a", "ts": "not a time", "values": {"x": 1.0}},
        {"asset_id": "a", "cycle": 2, "values": {"x": 2.0}},
    ]
    df, _ = records.from_json_records(recs)
    batch, rej = validate(df, _registry(), MANUFACTURER, now=datetime(2025, 7, 1, tzinfo=UTC))
    assert [(r.index, r.field) for r in rej] == [
        (0, "channel"),
        (1, "value"),
        (2, "asset_id"),
        (3, "ts"),
    ]
    assert "unknown channel for this asset type: nope" in rej[0].reason
    assert "above the channel's valid maximum 10.0: 11.0" in rej[1].reason
    assert batch.value.tolist() == [1.0, 2.0]
    assert batch.ts.dtype == np.dtype("datetime64[us]")
    assert batch.ts[1] > np.datetime64("2024-01-01")  # a cycle placed after installation


def _batch(rows):
    a, c, t, v = zip(*rows, strict=True)
    return ReadingBatch(
        np.array(a, dtype=object),
        np.array(c, dtype=object),
        np.array(t, dtype="datetime64[us]"),
        np.array(v, dtype=np.float64),
    )


def test_a_reading_twice_in_a_batch_is_stored_once_the_later_winning():
    t = "2025-06-01T00:00:00"
    table = _arrow_batch(_batch([("a", "x", t, 1.0), ("a", "y", t, 2.0), ("a", "x", t, 3.0)]))
    assert table.column("value").to_pylist() == [2.0, 3.0]
    assert table.column("channel").to_pylist() == ["y", "x"]


def test_appends_and_anti_joins_store_each_reading_once(tmp_path):
    store = DuckDBStore(tmp_path / "x.duckdb")
    store.migrate()
    try:
        t0, t1, t2 = "2025-06-01T00:00:00", "2025-06-01T00:00:01", "2025-06-01T00:00:02"
        assert store.write_readings(_batch([("a", "x", t1, 1.0), ("a", "y", t1, 1.0)])) == 2
        # newer than anything stored: appended
        assert store.write_readings(_batch([("a", "x", t2, 2.0)])) == 1
        # older and overlapping: only what is new goes in
        assert store.write_readings(_batch([("a", "x", t0, 0.0), ("a", "x", t1, 9.0)])) == 1
        assert store.write_readings(_batch([("a", "x", t2, 2.0), ("a", "y", t1, 1.0)])) == 0
        # another asset at a time already stored for the first: its own, so appended
        assert store.write_readings(_batch([("b", "x", t1, 1.0), ("b", "x", t2, 1.0)])) == 2
        assert store.write_readings(_batch([("b", "x", t2, 5.0), ("a", "y", t2, 1.0)])) == 1
        assert store.count_readings() == 7
    finally:
        store.close()
    reopened = DuckDBStore(tmp_path / "x.duckdb")  # the newest time is looked up again
    try:
        assert reopened.write_readings(_batch([("a", "x", t2, 2.0)])) == 0
        assert reopened.write_readings(_batch([("c", "x", t2, 2.0)])) == 1
        assert reopened.count_readings() == 8
    finally:
        reopened.close()


def test_reads_do_not_wait_for_a_write_in_progress(tmp_path):
    import threading

    store = DuckDBStore(tmp_path / "x.duckdb")
    store.migrate()
    held, release = threading.Event(), threading.Event()

    def writer() -> None:
        with store._lock:  # a write holds the lock this long
            held.set()
            release.wait(10)

    t = threading.Thread(target=writer)
    t.start()
    try:
        held.wait(10)
        assert store.count_readings() == 0  # answered while the lock is held
    finally:
        release.set()
        t.join()
        store.close()
