"""A customer's key sees and writes only that customer's assets; the manufacturer sees all."""

from __future__ import annotations

import httpx
import pytest

from prognos.api import create_app
from prognos.domain.keys import MANUFACTURER


@pytest.fixture
async def clients(seeded):
    app = create_app(platform=seeded)
    out = {}
    for who in (None, "acme", "globex"):
        key, _ = seeded.keys.create(MANUFACTURER, who)
        out[who or "maker"] = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", headers={"X-API-Key": key}
        )
    yield out
    for c in out.values():
        await c.aclose()


async def test_customer_lists_only_its_assets(clients):
    acme = (await clients["acme"].get("/api/v1/assets")).json()
    assert acme["total"] == 2 and {a["customer_id"] for a in acme["items"]} == {"acme"}
    maker = (await clients["maker"].get("/api/v1/assets")).json()
    assert maker["total"] == 4


async def test_other_customers_asset_answers_404(clients):
    r = await clients["acme"].get("/api/v1/assets/globex-p1")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert (await clients["acme"].get("/api/v1/assets/globex-p1/telemetry")).status_code == 404
    assert (await clients["acme"].get("/api/v1/assets/acme-p1")).status_code == 200


async def test_customer_cannot_write_another_customers_asset(clients, seeded):
    rec = {"asset_id": "globex-p1", "ts": "2025-06-01T00:00:00Z", "channel": "temp", "value": 1.0}
    out = (await clients["acme"].post("/api/v1/telemetry", json=[rec])).json()
    assert out["accepted"] == 0 and out["rejected"][0]["reason"] == "unknown asset for this key"
    assert seeded.store.count_readings() == 0
    assert (await clients["globex"].post("/api/v1/telemetry", json=[rec])).json()["accepted"] == 1


async def test_customer_sees_only_its_quarantine(clients):
    bad = {"asset_id": "globex-p1", "ts": "2025-06-01T00:00:00Z", "channel": "temp", "value": 999.0}
    await clients["globex"].post("/api/v1/telemetry", json=[bad])
    assert len((await clients["globex"].get("/api/v1/quarantine")).json()["items"]) == 1
    assert (await clients["acme"].get("/api/v1/quarantine")).json()["items"] == []


async def test_customer_cannot_change_the_registry(clients):
    r = await clients["acme"].post("/api/v1/customers", json={"id": "evil", "name": "Evil"})
    assert r.status_code == 403


async def test_missing_or_wrong_key_is_401(seeded):
    app = create_app(platform=seeded)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/api/v1/assets")).status_code == 401
        r = await c.get("/api/v1/assets", headers={"X-API-Key": "pk_wrong"})
        assert r.status_code == 401 and "unknown API key" in r.json()["error"]["message"]
