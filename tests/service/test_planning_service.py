"""Planning through the API: a plan in the customer's stop, orders through their lifecycle, feedback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from prognos.api import create_app
from prognos.domain import FailureForecast
from prognos.domain.keys import MANUFACTURER
from prognos.domain.planning import SiteCalendar, Window

NOW = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
STOP_DAY = (NOW + timedelta(days=4)).date()


def _calendar() -> dict:
    windows = []
    for d in range(70):
        day = (NOW + timedelta(days=d)).replace(hour=0)
        if day.date() == STOP_DAY:
            windows.append(
                Window(start=day, end=day + timedelta(days=1), kind="stop", label="planned stop")
            )
        else:  # a seven-day, two-shift plant: the stop is the only window
            windows.append(
                Window(start=day + timedelta(hours=6), end=day + timedelta(hours=22), kind="shift")
            )
    return SiteCalendar(site_id="acme-plant", timezone="UTC", windows=windows).model_dump(
        mode="json"
    )


@pytest.fixture
async def world(seeded):
    app = create_app(platform=seeded)
    keys = {who: seeded.keys.create(MANUFACTURER, who)[0] for who in (None, "acme", "globex")}
    clients = {
        who or "maker": httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", headers={"X-API-Key": k}
        )
        for who, k in keys.items()
    }
    maker = clients["maker"]
    # acme-p1 is wearing out (about 10 operating days left), acme-p2 is healthy
    for aid, p50 in (("acme-p1", 160.0), ("acme-p2", 20_000.0)):
        seeded.store.save_forecast(
            FailureForecast.from_quantiles(
                aid,
                NOW,
                {0.001: p50 * 0.3, 0.1: p50 * 0.6, 0.5: p50, 0.9: p50 * 1.4},
                time_unit="hours",
                model="test",
            )
        )
    assert (
        await clients["acme"].put("/api/v1/sites/acme-plant/calendar", json=_calendar())
    ).status_code == 200
    r = await maker.put(
        "/api/v1/crews/crew-1",
        json={
            "id": "crew-1",
            "skills": ["pump"],
            "home_region": "default",
            "working_weekdays": [0, 1, 2, 3, 4, 5, 6],
        },
    )
    assert r.status_code == 200, r.text
    await maker.put(
        "/api/v1/parts",
        json={
            "depot_id": "d1",
            "part": "pump-seal",
            "on_hand": 5,
            "lead_time_days": 3,
            "regions": ["default"],
        },
    )
    await maker.put(
        "/api/v1/costs/pump",
        json={
            "asset_type": "pump",
            "part": "pump-seal",
            "unplanned_stoppage_cost_per_hour": 5000,
            "unplanned_repair_hours": 12,
            "planned_job_hours": 3,
            "part_cost": 400,
            "labour_cost_per_hour": 80,
            "wasted_life_cost_per_unit": 1.0,
        },
    )
    yield clients
    for c in clients.values():
        await c.aclose()


async def test_plan_puts_the_risky_pump_into_the_planned_stop(world):
    r = await world["maker"].post("/api/v1/plan", params={"horizon_days": 30, "time_limit_s": 5})
    assert r.status_code == 200, r.text
    jobs = r.json()["plan"]["jobs"]
    assert [j["asset_id"] for j in jobs] == ["acme-p1"]
    job = jobs[0]
    assert job["day"] == STOP_DAY.isoformat() and job["in_window"]
    assert 0 < job["explanation"]["prob_fail_before"] < 0.5
    assert job["explanation"]["why_not_later"]
    orders = (await world["acme"].get("/api/v1/workorders")).json()
    assert len(orders) == 1 and orders[0]["status"] == "scheduled"
    assert (await world["globex"].get("/api/v1/workorders")).json() == []


async def test_customers_may_not_plan_or_change_crews(world):
    assert (await world["acme"].post("/api/v1/plan")).status_code == 403
    r = await world["acme"].put(
        "/api/v1/crews/x", json={"id": "x", "skills": ["pump"], "home_region": "r"}
    )
    assert r.status_code == 403


async def test_work_order_lifecycle_feeds_the_finding_back(world, seeded):
    await world["maker"].post("/api/v1/plan", params={"horizon_days": 30, "time_limit_s": 5})
    [order] = (await world["maker"].get("/api/v1/workorders")).json()
    oid = order["id"]
    bad = await world["maker"].patch(f"/api/v1/workorders/{oid}", json={"status": "done"})
    assert bad.status_code == 422 and "needs a finding" in bad.json()["error"]["message"]
    skip = await world["maker"].patch(f"/api/v1/workorders/{oid}", json={"status": "in_progress"})
    assert (
        skip.status_code == 409
        and "cannot go from scheduled to in_progress" in skip.json()["error"]["message"]
    )
    denied = await world["acme"].patch(f"/api/v1/workorders/{oid}", json={"status": "dispatched"})
    assert denied.status_code == 403  # the manufacturer's crews do the work; customers watch
    for status in ("dispatched", "in_progress"):
        assert (
            await world["maker"].patch(f"/api/v1/workorders/{oid}", json={"status": status})
        ).status_code == 200
    at = (NOW + timedelta(days=4, hours=3)).isoformat()
    done = await world["maker"].patch(
        f"/api/v1/workorders/{oid}",
        json={
            "status": "done",
            "finding": {
                "condition": "seal cracked",
                "failure_found": False,
                "part_replaced": True,
                "measured_wear": 0.8,
                "at": at,
            },
        },
    )
    assert done.status_code == 200 and done.json()["status"] == "done"
    events = (await world["acme"].get("/api/v1/assets/acme-p1/events")).json()
    assert (
        len(events) == 1 and events[0]["kind"] == "replacement" and events[0]["work_order"] == oid
    )
    assert events[0]["age"] > 0
    # the replaced part starts a new life
    assert seeded.store.get_asset("acme-p1").installed_at == datetime.fromisoformat(at)
    again = await world["maker"].patch(f"/api/v1/workorders/{oid}", json={"status": "cancelled"})
    assert again.status_code == 409


async def test_a_plan_reply_names_the_assets_whose_orders_changed_while_it_was_made(
    world, seeded, monkeypatch
):
    """A crew finishes acme-p1's job while the next plan is being computed: the reply says
    the asset's changes were deferred, and the done order is not overwritten."""
    import prognos.service.planning as planning

    first = await world["maker"].post(
        "/api/v1/plan", params={"horizon_days": 30, "time_limit_s": 5}
    )
    assert first.status_code == 200 and first.json()["deferred"] == []
    [order] = (await world["maker"].get("/api/v1/workorders")).json()
    solve = planning.replan

    def crew_finishes_meanwhile(*args, **kwargs):
        for status in ("dispatched", "in_progress"):
            seeded.orders.transition(MANUFACTURER, order["id"], status)
        seeded.orders.complete(MANUFACTURER, order["id"], condition="replaced", part_replaced=True)
        return solve(*args, **kwargs)

    monkeypatch.setattr(planning, "replan", crew_finishes_meanwhile)
    r = await world["maker"].post("/api/v1/plan", params={"horizon_days": 30, "time_limit_s": 5})
    assert r.status_code == 200, r.text
    assert r.json()["deferred"] == ["acme-p1"]
    orders = (await world["maker"].get("/api/v1/workorders", params={"asset": "acme-p1"})).json()
    assert [(o["id"], o["status"]) for o in orders] == [(order["id"], "done")]


def test_the_plan_reply_documents_deferred_assets_in_openapi(seeded):
    spec = create_app(platform=seeded).openapi()
    reply = spec["components"]["schemas"]["PlanReply"]
    assert "deferred" in reply["required"]
    field = reply["properties"]["deferred"]
    assert field["type"] == "array" and field["items"] == {"type": "string"}
    assert "next plan" in field["description"]


async def test_planning_without_crews_names_what_is_missing(seeded):
    app = create_app(platform=seeded)
    key, _ = seeded.keys.create(MANUFACTURER, None)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", headers={"X-API-Key": key}
    ) as c:
        r = await c.post("/api/v1/plan")
        assert r.status_code == 422 and "nothing to plan" in r.json()["error"]["message"]


async def test_ics_import(world):
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:1\r\n"
        "SUMMARY:Planned stop\r\nCATEGORIES:STOP\r\nDTSTART:20300105T000000Z\r\nDTEND:20300106T000000Z\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    r = await world["acme"].post(
        "/api/v1/sites/acme-plant/calendar.ics",
        content=ics,
        headers={"Content-Type": "text/calendar"},
    )
    assert r.status_code == 200, r.text
    assert (
        await world["globex"].post("/api/v1/sites/acme-plant/calendar.ics", content=ics)
    ).status_code == 404


def test_hour_forecasts_become_days_of_the_clock_with_both_tails_kept():
    from prognos.service.planning import HOURS_PER_DAY, in_days

    f = FailureForecast(
        "pump-1",
        datetime(2026, 1, 1, tzinfo=UTC),
        (0.1, 0.5, 0.9),
        (160.0, 320.0, 640.0),
        "hours",
        upper_tail=2.0,
        lower_tail_shape=3.0,
    )
    d = in_days(f)
    assert d.time_unit == "days" and d.values == tuple(v / HOURS_PER_DAY for v in f.values)
    assert (d.upper_tail, d.lower_tail_shape) == (2.0, 3.0)
    # the same probability at the same moment, counted in either unit
    assert d.cdf(2.5) == pytest.approx(f.cdf(2.5 * 24.0))
