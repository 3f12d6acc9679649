"""A telemetry batch is stored whole or not at all, and its rejections are the caller's:
attributed to the key's customer, bounded per customer by a quota and a retention."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from prognos.api import create_app
from prognos.domain.keys import MANUFACTURER
from prognos.errors import StoreError

GOOD = {"asset_id": "acme-p1", "ts": "2025-06-01T00:00:00Z", "channel": "temp", "value": 40.0}
BAD = {**GOOD, "ts": "2025-06-01T00:01:00Z", "value": 999.0}


@pytest.fixture
async def keys(seeded):
    app = create_app(platform=seeded)
    out = {}
    for who in ("acme", "globex"):
        key, _ = seeded.keys.create(MANUFACTURER, who, who)
        out[who] = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", headers={"X-API-Key": key}
        )
    yield out
    for c in out.values():
        await c.aclose()


async def test_a_valid_and_a_bad_record_are_stored_together(keys, seeded):
    r = await keys["acme"].post("/api/v1/telemetry", json=[GOOD, BAD])
    assert r.status_code == 200 and r.json()["accepted"] == 1 and r.json()["rejected_count"] == 1
    assert seeded.store.count_readings() == 1
    [row] = seeded.telemetry.quarantined(MANUFACTURER)
    assert row["customer_id"] == "acme" and row["field"] == "value"


async def test_when_the_quarantine_write_fails_nothing_is_stored_and_the_answer_says_so(
    keys, seeded, monkeypatch
):
    def broken(cur, rows):
        raise StoreError("the quarantine could not be written")

    monkeypatch.setattr(seeded.store, "_append_quarantine", broken)
    r = await keys["acme"].post("/api/v1/telemetry", json=[GOOD, BAD])
    assert r.status_code == 503 and r.json()["error"]["code"] == "store_error"
    assert seeded.store.count_readings() == 0  # the valid reading went back with the rest
    monkeypatch.undo()
    r = await keys["acme"].post("/api/v1/telemetry", json=[GOOD, BAD])  # the resend works
    assert r.json()["accepted"] == 1 and seeded.store.count_quarantine() == 1


async def test_text_no_database_takes_is_quarantined_all_the_same(keys, seeded):
    csv = "asset_id,ts,channel,value\nacme-p1,2025-06-01T00:00:00Z,te\x00mp,1\n"
    r = await keys["acme"].post(
        "/api/v1/telemetry", content=csv.encode(), headers={"Content-Type": "text/csv"}
    )
    assert r.status_code == 200 and r.json()["rejected_count"] == 1
    assert "\x00" not in seeded.telemetry.quarantined(MANUFACTURER)[0]["raw"]


async def test_a_customer_cannot_write_into_another_customers_quarantine(keys, seeded):
    other = {**BAD, "asset_id": "globex-p1"}
    await keys["acme"].post("/api/v1/telemetry", json=[other])
    await keys["acme"].post(
        "/api/v1/telemetry", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert (await keys["globex"].get("/api/v1/quarantine")).json()["items"] == []
    mine = (await keys["acme"].get("/api/v1/quarantine")).json()["items"]
    assert len(mine) == 2 and {q["customer_id"] for q in mine} == {"acme"}
    assert seeded.store.count_quarantine("globex") == 0


async def test_each_customer_keeps_at_most_its_quota_newest_first(keys, seeded):
    seeded.settings.quarantine_max_rows = 5
    for i in range(12):
        bad = {**BAD, "ts": f"2025-06-01T00:{i:02d}:00Z"}
        await keys["acme"].post("/api/v1/telemetry", json=[bad])
    await keys["globex"].post("/api/v1/telemetry", json=[{**BAD, "asset_id": "globex-p1"}])
    assert seeded.store.count_quarantine("acme") == 5
    assert seeded.store.count_quarantine("globex") == 1  # a flood of acme's pushed out none
    kept = [json.loads(q["raw"])["ts"] for q in seeded.telemetry.quarantined(MANUFACTURER)]
    assert "2025-06-01T00:11:00Z" in kept and "2025-06-01T00:00:00Z" not in kept


def test_rows_past_the_retention_are_dropped(seeded):
    from prognos.domain.telemetry import Rejection

    seeded.store.quarantine([Rejection(0, "value", "old", "{}", "http", "acme-p1")], "http")
    seeded.store._exec(
        "UPDATE quarantine SET received_at = ?",
        (datetime.now(UTC).replace(tzinfo=None) - timedelta(days=40),),
    )
    seeded.store.quarantine([Rejection(0, "value", "new", "{}", "http", "acme-p1")], "http")
    assert seeded.telemetry.purge_quarantine(MANUFACTURER) == 1  # 30 days by default
    assert [q["reason"] for q in seeded.telemetry.quarantined(MANUFACTURER)] == ["new"]
