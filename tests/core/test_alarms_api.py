"""Alarms in the API: the list (filters, paging with a total, newest first, tenant-scoped), one
alarm, acknowledging one or in bulk, clearing, the rules of a type, notification targets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from prognos.api import create_app
from prognos.domain.keys import MANUFACTURER

T = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


@pytest.fixture
async def api(seeded):
    """Clients by who holds the key, and the alarms of a small fleet: each pump's pressure
    alarm (acme-p1's critical), an hour apart, and globex-p1's temperature alarm."""
    for i, asset in enumerate(("acme-p1", "acme-p2", "globex-p1", "globex-p2")):
        sev = "critical" if asset == "acme-p1" else "warning"
        seeded.alarms.report(
            MANUFACTURER, asset, "pressure", "pressure low", sev, T + timedelta(hours=i)
        )
    seeded.alarms.report(
        MANUFACTURER, "globex-p1", "temperature", "hot", "warning", T - timedelta(hours=1)
    )
    app = create_app(platform=seeded)
    out = {}
    for who in (None, "acme", "globex"):
        key, _ = seeded.keys.create(MANUFACTURER, who, f"{who or 'maker'} desk")
        out[who or "maker"] = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", headers={"X-API-Key": key}
        )
    yield out
    for c in out.values():
        await c.aclose()


async def test_the_list_filters_pages_and_counts(api):
    r = (await api["maker"].get("/api/v1/alarms", params={"limit": 2})).json()
    assert r["total"] == 5 and r["limit"] == 2 and len(r["items"]) == 2
    assert [a["asset_id"] for a in r["items"]] == ["globex-p2", "globex-p1"]  # newest first
    rest = (await api["maker"].get("/api/v1/alarms", params={"limit": 2, "offset": 2})).json()
    assert [a["asset_id"] for a in rest["items"]] == ["acme-p2", "acme-p1"]
    for params, n in (
        ({"severity": "critical"}, 1),
        ({"customer": "globex"}, 3),
        ({"cause": "pressure", "site": "globex-plant"}, 2),
        ({"asset": "globex-p1"}, 2),
        ({"type": "pump", "state": "active"}, 5),
        ({"state": "cleared"}, 0),
    ):
        assert (await api["maker"].get("/api/v1/alarms", params=params)).json()["total"] == n
    bad = await api["maker"].get("/api/v1/alarms", params={"state": "angry"})
    assert bad.status_code == 422 and "no alarm state 'angry'" in bad.json()["error"]["message"]


async def test_a_customer_sees_and_acknowledges_only_its_own(api):
    mine = (await api["acme"].get("/api/v1/alarms")).json()
    assert mine["total"] == 2 and {a["customer_id"] for a in mine["items"]} == {"acme"}
    assert (await api["acme"].get("/api/v1/alarms", params={"customer": "globex"})).json()[
        "total"
    ] == 0
    theirs = (await api["globex"].get("/api/v1/alarms")).json()["items"][0]["id"]
    assert (await api["acme"].get(f"/api/v1/alarms/{theirs}")).status_code == 404
    r = await api["acme"].patch(f"/api/v1/alarms/{theirs}", json={"action": "acknowledge"})
    assert r.status_code == 404
    everything = await api["acme"].post("/api/v1/alarms/ack", json={"filter": {}})
    assert everything.json() == {"acknowledged": 2}
    assert (await api["globex"].get("/api/v1/alarms", params={"state": "active"})).json()[
        "total"
    ] == 3


async def test_acknowledge_with_a_note_and_clear_by_the_manufacturer(api):
    a = (await api["acme"].get("/api/v1/alarms", params={"severity": "critical"})).json()
    alarm_id = a["items"][0]["id"]
    r = await api["acme"].patch(
        f"/api/v1/alarms/{alarm_id}", json={"action": "acknowledge", "note": "crew on site"}
    )
    body = r.json()
    assert r.status_code == 200 and body["state"] == "acknowledged"
    assert body["acked_by"] == "acme desk" and body["ack_note"] == "crew on site"
    r = await api["acme"].patch(f"/api/v1/alarms/{alarm_id}", json={"action": "clear"})
    assert r.status_code == 403
    r = await api["maker"].patch(f"/api/v1/alarms/{alarm_id}", json={"action": "clear"})
    assert r.json()["state"] == "cleared" and r.json()["cleared_by"] == "maker desk"
    one = (await api["maker"].get(f"/api/v1/alarms/{alarm_id}")).json()
    assert [h["event"] for h in one["history"]] == ["raised", "cleared"]
    assert datetime.fromisoformat(one["first_seen"]) == T


async def test_bulk_acknowledge_by_ids_or_filter(api):
    items = (await api["maker"].get("/api/v1/alarms", params={"customer": "globex"})).json()[
        "items"
    ]
    ids = [a["id"] for a in items if a["cause"] == "pressure"]
    r = await api["maker"].post("/api/v1/alarms/ack", json={"ids": ids, "note": "known"})
    assert r.json() == {"acknowledged": 2}
    r = await api["maker"].post(
        "/api/v1/alarms/ack", json={"filter": {"cause": "pressure", "state": "active"}}
    )
    assert r.json() == {"acknowledged": 2}  # acme's two; globex's were done
    left = (await api["maker"].get("/api/v1/alarms", params={"state": "active"})).json()
    assert [a["cause"] for a in left["items"]] == ["temperature"]
    r = await api["maker"].post("/api/v1/alarms/ack", json={})
    assert r.status_code == 422
    r = await api["maker"].post("/api/v1/alarms/ack", json={"filter": {"colour": "red"}})
    assert r.status_code == 422


async def test_rules_of_a_type_are_set_and_checked(api):
    r = (await api["acme"].get("/api/v1/asset-types/pump/alarm-rules")).json()
    assert r == {
        "type_id": "pump",
        "own": False,
        "rules": r["rules"],
    } and [x["kind"] for x in r["rules"]["rules"]] == ["zscore"]
    bad = {"rules": [{"kind": "threshold", "channel": "temp", "value": 90, "critical": 80}]}
    r = await api["maker"].put("/api/v1/asset-types/pump/alarm-rules", json=bad)
    err = r.json()["error"]
    assert r.status_code == 422 and err["details"] == [
        {"rule": "rules[0] (threshold temp)", "field": "critical",
         "reason": "critical must lie above value 90"}
    ]  # fmt: skip
    good = {"clear_after_s": 600, "rules": [{"kind": "threshold", "channel": "temp", "value": 90}]}
    r = await api["maker"].put("/api/v1/asset-types/pump/alarm-rules", json=good)
    assert r.status_code == 200 and r.json()["own"] and r.json()["rules"]["clear_after_s"] == 600
    assert (
        await api["acme"].put("/api/v1/asset-types/pump/alarm-rules", json=good)
    ).status_code == 403
    r = await api["maker"].delete("/api/v1/asset-types/pump/alarm-rules")
    assert r.json()["own"] is False


async def test_notification_targets_per_owner(api):
    body = {"webhooks": [{"id": "ops", "url": "http://127.0.0.1:9/hook"}], "email": []}
    r = (await api["acme"].put("/api/v1/notifications", json=body)).json()
    assert r["owner"] == "acme" and set(r["new_secrets"]) == {"ops"}
    assert r["targets"]["webhooks"][0]["secret"] == "…" + r["new_secrets"]["ops"][-4:]
    seen = (await api["maker"].get("/api/v1/customers/acme/notifications")).json()
    assert seen["targets"]["webhooks"][0]["url"] == "http://127.0.0.1:9/hook"
    assert (await api["acme"].get("/api/v1/customers/globex/notifications")).status_code == 404
    assert (await api["maker"].get("/api/v1/notifications")).json()["targets"]["webhooks"] == []
    r = await api["maker"].put(
        "/api/v1/notifications", json={"webhooks": [{"id": "x", "url": "not a url"}]}
    )
    assert r.status_code == 422
    assert (await api["acme"].get("/api/v1/notifications/dead-letters")).status_code == 403
