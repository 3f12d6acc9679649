"""Labelled events from files and the API: idempotent, a replacement starts a new life, and
training reads them exactly as it reads work-order findings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from prognos.api import create_app
from prognos.domain.events import LabelledEvent
from prognos.domain.keys import MANUFACTURER
from prognos.errors import ValidationFailed
from prognos.service.event_files import EventColumns
from support import INSTALLED, seed

T0 = INSTALLED  # the seeded pumps were installed on 2025-01-01 (UTC); their sites are in Berlin


@pytest.fixture
def world(platform):
    seed(platform)
    return platform


def test_the_same_file_twice_stores_each_event_once(world, tmp_path):
    f = tmp_path / "log.csv"
    f.write_text(
        "machine,when,what,part,remark\n"
        "acme-p1,2025-03-01 10:00,failure,,seal leak\n"
        "acme-p1,2025-03-01 10:00,replaced,,\n"
        "acme-p2,2025-04-01 10:00,Maintenance,impeller,planned\n"
    )
    o = EventColumns(asset_column="machine", time_column="when", kind_column="what",
                     component_column="part", note_column="remark")  # fmt: skip
    first = world.event_files.load(MANUFACTURER, f, o)
    again = world.event_files.load(MANUFACTURER, f, o)
    assert (first["stored"], first["unchanged"]) == (3, 0)
    assert (again["stored"], again["unchanged"]) == (0, 3)
    evs = world.events.of_asset(MANUFACTURER, "acme-p1")
    assert [e["kind"] for e in evs] == ["failure", "replacement"]
    assert evs[0]["at"] == "2025-03-01T09:00:00+00:00"  # 10:00 in Berlin
    assert evs[0]["note"] == "seal leak"
    (p2,) = world.events.of_asset(MANUFACTURER, "acme-p2")
    assert (p2["kind"], p2["component"]) == ("replacement", "impeller")


def test_a_bad_row_stores_nothing_and_is_named(world, tmp_path):
    f = tmp_path / "log.csv"
    f.write_text("asset_id,at,kind\nacme-p1,2025-03-01,failure\nacme-p9,2025-03-02,failure\n"
                 "acme-p2,2025-03-03,explosion\n")  # fmt: skip
    with pytest.raises(ValidationFailed) as e:
        world.event_files.load(MANUFACTURER, f)
    assert "row 1: asset 'acme-p9' is not registered" in e.value.message
    assert "row 2: kind: unknown kind 'explosion'" in e.value.message
    assert world.events.of_asset(MANUFACTURER, "acme-p1") == []


def test_a_replacement_starts_a_new_life_and_a_failure_with_its_replacement_is_one(world):
    world.events.record(
        MANUFACTURER,
        [
            {"asset_id": "acme-p1", "kind": "failure", "at": T0 + timedelta(days=10)},
            {"asset_id": "acme-p1", "kind": "replacement", "at": T0 + timedelta(days=10)},
            {"asset_id": "acme-p1", "kind": "inspection", "at": T0 + timedelta(days=12)},
            {"asset_id": "acme-p1", "kind": "replacement", "at": T0 + timedelta(days=30)},
        ],
    )
    until = T0 + timedelta(days=40)
    lives = [
        x for x in world.events.lives(MANUFACTURER, "pump", until=until) if x.asset_id == "acme-p1"
    ]
    assert [(x.start, x.end, x.failed) for x in lives] == [
        (T0, T0 + timedelta(days=10), True),
        (T0 + timedelta(days=10), T0 + timedelta(days=30), False),  # replaced while working
        (T0 + timedelta(days=30), until, False),  # still running: censored
    ]
    assert [x.duration(3600.0) for x in lives] == [240.0, 480.0, 240.0]


def test_events_feed_training_as_work_order_findings_do(world):
    from prognos.domain.planning import WorkOrder

    world.orders.save(MANUFACTURER, WorkOrder(id="wo-1", asset_id="acme-p2", site_id="acme-plant",
                                              day=(T0 + timedelta(days=5)).date(), status="in_progress"))  # fmt: skip
    world.orders.complete(MANUFACTURER, "wo-1", "bearing seized", failure_found=True,
                          part_replaced=True, at=T0 + timedelta(days=5))  # fmt: skip
    world.events.record(
        MANUFACTURER, [LabelledEvent(asset_id="acme-p1", kind="failure", cycle=100)]
    )
    lives = {x.asset_id: x for x in world.training.failure_lives(MANUFACTURER, "pump")}
    assert lives["acme-p2"].start == T0 and lives["acme-p2"].duration(3600.0) == 120.0
    assert lives["acme-p1"].duration(3600.0) == 100.0  # cycle 100: 100 hours after installation


async def test_events_through_the_api_are_idempotent_and_checked_whole(world):
    app = create_app(platform=world)
    key, _ = world.keys.create(MANUFACTURER, None, "ops")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                 headers={"X-API-Key": key}) as c:  # fmt: skip
        one = {"kind": "failure", "at": "2025-02-01T00:00:00Z", "failure_mode": "leak"}
        r = await c.post("/api/v1/assets/acme-p1/events", json=one)
        assert r.status_code == 201 and r.json()["stored"] == 1
        r = await c.post("/api/v1/assets/acme-p1/events", json=[one])
        assert r.json() == {"stored": 0, "unchanged": 1, "ids": r.json()["ids"]}
        bulk = [{"asset_id": "acme-p2", "kind": "repair", "at": "2025-02-02T00:00:00Z"},
                {"asset_id": "nope", "kind": "failure", "at": "2025-02-02T00:00:00Z"}]  # fmt: skip
        r = await c.post("/api/v1/events", json=bulk)
        assert (
            r.status_code == 422
            and "asset 'nope' is not registered" in r.json()["error"]["message"]
        )
        assert (await c.post("/api/v1/events", json=bulk[:1])).json()["stored"] == 1
        listed = (await c.get("/api/v1/assets/acme-p1/events")).json()
        assert [(e["kind"], e["failure_mode"]) for e in listed] == [("failure", "leak")]
        customer, _ = world.keys.create(MANUFACTURER, "acme", "acme")
        r = await c.post("/api/v1/events", json=bulk[:1], headers={"X-API-Key": customer})
        assert r.status_code == 403


def test_an_event_needs_a_time_or_a_cycle():
    with pytest.raises(ValueError, match="needs a time"):
        LabelledEvent(asset_id="a", kind="failure")
    assert (
        LabelledEvent(asset_id="a", kind="Breakdown", at=datetime(2025, 1, 1, tzinfo=UTC)).kind
        == "failure"
    )


def test_an_age_no_date_can_hold_is_refused_with_its_field():
    """Found by the API fuzz: cycle 6e16 reached the date arithmetic and answered 500."""
    with pytest.raises(ValueError, match="cycle"):
        LabelledEvent(asset_id="a", kind="failure", cycle=6.17e16)
    with pytest.raises(ValueError, match="cycle"):
        LabelledEvent(asset_id="a", kind="failure", cycle=-1)
    assert LabelledEvent(asset_id="a", kind="failure", cycle=1_000_000).cycle == 1_000_000
