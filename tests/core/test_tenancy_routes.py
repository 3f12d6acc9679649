"""Every route with an id in its path, read from the OpenAPI: a customer's key asking for
another customer's object gets the answer a nonexistent id gets, so an answer never tells
whether someone else's object exists."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import httpx
import numpy as np
import pytest

from prognos.api import create_app
from prognos.domain import Asset, AssetType, ReadingBatch
from prognos.domain.keys import MANUFACTURER
from prognos.domain.planning import WorkOrder
from prognos.service.alarm_desk import AlarmQuery

# globex's object for each path parameter, and an id that names nothing
OTHERS = {
    "asset_id": ("globex-p1", "no-such-asset"),
    "site_id": ("globex-plant", "no-such-site"),
    "order_id": ("wo-globex", "no-such-order"),
    "key_id": ("GLOBEX_KEY", "no-such-key"),
    "crew_id": ("globex-crew", "no-such-crew"),
    "key": ("globex-p1", "no-such-asset"),
    "alarm_id": ("GLOBEX_ALARM", "no-such-alarm"),
    "type_id": ("globex-only", "no-such-type"),  # a kind only globex owns
    "customer_id": ("globex", "no-such-customer"),
}
# a valid body, so that each answer comes from the object's lookup, not from validation
BODIES = {
    "PUT /api/v1/sites/{site_id}/calendar": {"json": {"site_id": "x", "windows": []}},
    "POST /api/v1/sites/{site_id}/calendar.ics": {
        "content": b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
        "headers": {"Content-Type": "text/calendar"},
    },
    "PATCH /api/v1/workorders/{order_id}": {"json": {"status": "dispatched"}},
    "PATCH /api/v1/alarms/{alarm_id}": {"json": {"action": "acknowledge"}},
    "PUT /api/v1/assets/{asset_id}/lifecycle": {"json": {"state": "retired"}},
    "POST /api/v1/assets/{asset_id}/events": {
        "json": {"kind": "inspection", "at": "2025-01-01T00:00:00Z"}
    },
    "PUT /api/v1/asset-types/{type_id}/alarm-rules": {"json": {"rules": []}},
    "PUT /api/v1/customers/{customer_id}/notifications": {"json": {"webhooks": []}},
    "PUT /api/v1/crews/{crew_id}": {
        "json": {"id": "x", "skills": ["pump"], "home_region": "default"}
    },
    "PUT /api/v1/costs/{key}": {
        "json": {
            "asset_type": "pump",
            "part": "seal",
            "unplanned_stoppage_cost_per_hour": 100,
            "unplanned_repair_hours": 4,
            "planned_job_hours": 2,
            "part_cost": 50,
            "labour_cost_per_hour": 80,
        }
    },
}


def routes_with_ids(app) -> list[tuple[str, str, list[str]]]:
    out = []
    for path, ops in app.openapi()["paths"].items():
        names = re.findall(r"{(\w+)}", path)
        if names:
            out.extend((method.upper(), path, names) for method in ops)
    return out


@pytest.fixture
async def world(seeded):
    seeded.orders.save(
        MANUFACTURER,
        WorkOrder(
            id="wo-globex",
            asset_id="globex-p1",
            site_id="globex-plant",
            day=date.today() + timedelta(days=3),
        ),
    )
    seeded.registry.add_asset_type(MANUFACTURER, AssetType(id="globex-only", name="Mixer"))
    seeded.registry.add_assets(
        MANUFACTURER,
        [
            Asset(
                id="globex-m1",
                customer_id="globex",
                site_id="globex-plant",
                type_id="globex-only",
                installed_at=datetime(2024, 1, 1, tzinfo=UTC),
            )
        ],
    )
    rule = {"kind": "threshold", "channel": "temp", "op": "above", "value": 90}
    seeded.alarms.put_rules(MANUFACTURER, "pump", {"rules": [rule]})
    at = np.datetime64((datetime.now(UTC) - timedelta(minutes=5)).replace(tzinfo=None), "us")
    one = np.array(["globex-p1"], dtype=object)
    hot = ReadingBatch(one, np.array(["temp"], dtype=object), np.array([at]), np.array([95.0]))
    seeded.telemetry.ingest_batch(MANUFACTURER, hot)
    (alarm,) = seeded.alarms.page(MANUFACTURER, AlarmQuery(asset="globex-p1")).items
    _, globex = seeded.keys.create(MANUFACTURER, "globex", "globex key")
    acme, _ = seeded.keys.create(MANUFACTURER, "acme", "acme key")
    app = create_app(platform=seeded)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", headers={"X-API-Key": acme}
    ) as c:
        yield app, c, {"GLOBEX_KEY": globex.key_id, "GLOBEX_ALARM": alarm.id}


def test_the_table_covers_every_path_parameter(seeded):
    for _, path, names in routes_with_ids(create_app(platform=seeded)):
        assert set(names) <= set(OTHERS), f"{path}: add its parameters to OTHERS"


async def test_another_customers_object_answers_like_a_nonexistent_one(world):
    app, acme, placeholders = world
    checked = []
    for method, path, names in routes_with_ids(app):
        answers = []
        for which in (0, 1):
            ids = {n: placeholders.get(OTHERS[n][which], OTHERS[n][which]) for n in names}
            url = path.format(**ids)
            r = await acme.request(method, url, **BODIES.get(f"{method} {path}", {}))
            assert r.status_code in (403, 404), (method, url, r.status_code, r.text)
            err = r.json()["error"]
            text = err["message"]
            for v in ids.values():
                text = text.replace(v, "<id>")
            answers.append((r.status_code, err["code"], text, err["hint"]))
        assert answers[0] == answers[1], (method, path, answers)
        checked.append(f"{method} {path}")
    assert len(checked) >= 13  # the assets', sites', orders', keys' and crews' routes
