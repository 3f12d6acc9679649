"""HTTP ingestion: what is valid is stored, every bad record is named and quarantined."""

from __future__ import annotations

import json

import httpx
import pytest

from prognos.api import create_app
from prognos.domain.keys import MANUFACTURER


@pytest.fixture
async def api(seeded):
    key, _ = seeded.keys.create(MANUFACTURER, None, "test manufacturer")
    app = create_app(platform=seeded)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",
        headers={"Authorization": f"Bearer {key}"},
    ) as client:
        yield client


async def test_long_and_wide_records_are_stored(api, seeded):
    body = [
        {"asset_id": "acme-p1", "ts": "2025-06-01T00:00:00Z", "channel": "temp", "value": 40.5},
        {
            "asset_id": "acme-p1",
            "ts": "2025-06-01T00:01:00Z",
            "values": {"temp": 41.0, "vibration": 2.5},
        },
    ]
    r = await api.post("/api/v1/telemetry", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 3 and r.json()["rejected"] == []
    assert seeded.store.count_readings() == 3


async def test_csv_wide_file_is_stored(api, seeded):
    csv = "asset_id,ts,temp,vibration\nacme-p2,2025-06-01T00:00:00Z,20,1\nacme-p2,2025-06-01T00:01:00Z,21,\n"
    r = await api.post("/api/v1/telemetry", content=csv, headers={"Content-Type": "text/csv"})
    assert r.json()["accepted"] == 3  # the empty cell is no reading, not an error


async def test_resending_the_same_readings_is_idempotent(api, seeded):
    body = [{"asset_id": "acme-p1", "ts": "2025-06-01T00:00:00Z", "channel": "temp", "value": 40.5}]
    await api.post("/api/v1/telemetry", json=body)
    r = await api.post("/api/v1/telemetry", json=body)
    assert r.json()["accepted"] == 0 and r.json()["duplicates"] == 1
    assert seeded.store.count_readings() == 1


GOOD = {"asset_id": "acme-p1", "ts": "2025-06-01T00:00:00Z", "channel": "temp", "value": 40.0}


@pytest.mark.parametrize(
    ("bad", "field", "reason"),
    [
        ({"asset_id": "nope-9"}, "asset_id", "unknown asset"),
        ({"channel": "pressure"}, "channel", "unknown channel"),
        ({"value": "NaN"}, "value", "expected a number"),
        ({"value": 1e999}, "value", "infinite"),
        ({"value": 151.0}, "value", "above the channel's valid maximum"),
        ({"value": -41.0}, "value", "below the channel's valid minimum"),
        ({"ts": "yesterday-ish"}, "ts", "unparseable time"),
        ({"ts": "2099-01-01T00:00:00Z"}, "ts", "in the future"),
        ({"ts": ["2025"]}, "ts", "expected an ISO 8601 string"),
        ({"value": True}, "value", "expected a number"),
        ({"channel": 7}, "channel", "missing or not a string"),
    ],
    ids=[
        "unknown-asset",
        "unknown-channel",
        "string-value",
        "infinite",
        "too-high",
        "too-low",
        "bad-time",
        "far-future",
        "time-wrong-type",
        "bool-value",
        "channel-wrong-type",
    ],
)
async def test_each_kind_of_bad_record_is_named_and_quarantined(api, seeded, bad, field, reason):
    body = [GOOD, {**GOOD, **bad}]
    r = await api.post(
        "/api/v1/telemetry",
        content=json.dumps(body).replace("Infinity", "1e999"),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["accepted"] == 1
    [rej] = out["rejected"]
    assert rej["index"] == 1 and rej["field"] == field and reason in rej["reason"]
    q = (await api.get("/api/v1/quarantine")).json()["items"]
    assert len(q) == 1 and q[0]["field"] == field and reason in q[0]["reason"]
    assert q[0]["raw"]  # the raw record is kept to be fixed and replayed


async def test_nan_in_csv_is_rejected_not_stored(api, seeded):
    csv = "asset_id,ts,channel,value\nacme-p1,2025-06-01T00:00:00Z,temp,nan\nacme-p1,2025-06-01T00:00:00Z,vibration,18. Jan\n"
    out = (
        await api.post("/api/v1/telemetry", content=csv, headers={"Content-Type": "text/csv"})
    ).json()
    assert out["accepted"] == 0
    reasons = sorted(r["reason"] for r in out["rejected"])
    assert reasons[0] == "NaN is not a reading" and "not a number: '18. Jan'" in reasons[1]


async def test_malformed_json_is_quarantined_whole(api, seeded):
    r = await api.post(
        "/api/v1/telemetry", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.json()["rejected"][0]["field"] == "payload"
    assert "not valid JSON" in seeded.store.list_quarantine()[0]["reason"]


async def test_oversized_payload_is_refused_with_413_and_quarantined(api, seeded):
    seeded.settings.max_payload_bytes = 1000
    r = await api.post("/api/v1/telemetry", json=[GOOD] * 50)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"
    assert "exceeds the limit" in seeded.store.list_quarantine()[0]["reason"]


async def test_downsampled_telemetry_for_charts(api, seeded):
    body = [
        {
            "asset_id": "acme-p1",
            "ts": 1748736000 + 60 * i,
            "values": {"temp": float(i % 100), "vibration": 1.0},
        }
        for i in range(500)
    ]
    assert (await api.post("/api/v1/telemetry", json=body)).json()["accepted"] == 1000
    r = (
        await api.get(
            "/api/v1/assets/acme-p1/telemetry", params={"channels": "temp", "max_points": 50}
        )
    ).json()
    assert r["downsampled"] and list(r["channels"]) == ["temp"]
    t = r["channels"]["temp"]
    assert len(t["ts"]) == 50 and max(t["max"]) == 99.0 and sum(t["count"]) == 500


def test_a_batch_of_messages_is_one_commit_with_indices_across_the_batch(seeded):
    msgs = [
        ("acme-p1", json.dumps({"ts": "2025-06-01T00:00:00Z", "values": {"temp": 20.0}}).encode()),
        ("acme-p2", b"not json"),
        (
            "acme-p2",
            json.dumps(
                [
                    {"ts": "2025-06-01T00:00:00Z", "values": {"temp": 20.0}},
                    {"ts": "2025-06-01T00:01:00Z", "values": {"temp": 999.0}},
                ]
            ).encode(),
        ),
    ]
    res = seeded.telemetry.ingest_messages(MANUFACTURER, msgs)
    assert res.accepted == 2
    assert sorted((r.index, r.field) for r in res.rejected) == [(1, "payload"), (3, "value")]
    assert seeded.store.count_quarantine() == 2
