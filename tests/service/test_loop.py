"""The loop as the running platform lives it (issue 11): the planner re-plans by itself, an
asset's health baseline resets when its part is replaced, offline and retired assets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from prognos.config import Settings
from prognos.domain import CostModel, Crew, FailureForecast, PartStock
from prognos.domain.keys import MANUFACTURER
from prognos.domain.planning import SiteCalendar, Window
from prognos.service.fleet import FleetQuery
from prognos.service.hosting import workers_for
from prognos.service.platform import open_platform
from prognos.service.workers.planner import PlannerWorker
from support import seed, wait_until

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def _calendar(site: str) -> SiteCalendar:
    """Two shifts a day; a planned stop every third day (the windows jobs may take)."""
    windows = []
    for d in range(80):
        day = (NOW + timedelta(days=d)).replace(hour=0)
        if d % 3 == 1:
            windows.append(Window(start=day, end=day + timedelta(days=1), kind="stop"))
        else:
            windows.append(
                Window(start=day + timedelta(hours=6), end=day + timedelta(hours=22), kind="shift")
            )
    return SiteCalendar(site_id=site, timezone="UTC", windows=windows)


def _forecast(asset_id: str, p50_hours: float) -> FailureForecast:
    q = {0.001: p50_hours * 0.3, 0.1: p50_hours * 0.6, 0.5: p50_hours, 0.9: p50_hours * 1.4}
    return FailureForecast.from_quantiles(asset_id, NOW, q, time_unit="hours", model="test")


def _resources(p) -> None:
    for site in ("acme-plant", "globex-plant"):
        p.calendars.put(MANUFACTURER, _calendar(site))
    p.resources.put_crew(
        MANUFACTURER,
        Crew(id="crew-1", skills=["pump"], home_region="default", working_weekdays=list(range(7))),
    )
    p.resources.put_stock(
        MANUFACTURER,
        PartStock(
            depot_id="d1", part="pump-seal", on_hand=5, lead_time_days=1, regions=["default"]
        ),
    )
    p.resources.put_cost_model(
        MANUFACTURER,
        "pump",
        CostModel(
            asset_type="pump",
            part="pump-seal",
            unplanned_stoppage_cost_per_hour=5000,
            unplanned_repair_hours=12,
            planned_job_hours=3,
            part_cost=400,
            labour_cost_per_hour=80,
            wasted_life_cost_per_unit=30.0,
        ),
    )


@pytest.fixture
def world(seeded):
    _resources(seeded)
    seeded.store.save_forecast(_forecast("acme-p1", 640.0))  # about 40 operating days left
    for aid in ("acme-p2", "globex-p1", "globex-p2"):
        seeded.store.save_forecast(_forecast(aid, 20_000.0))
    return seeded


def _job_day(p, asset_id: str):
    orders = [o for o in p.orders.list_orders(MANUFACTURER) if o.asset_id == asset_id]
    live = [o for o in orders if o.status.value == "scheduled"]
    assert len(live) == 1, [(o.id, o.status) for o in orders]
    return live[0].day


def test_a_forecast_that_moves_earlier_moves_the_job_earlier(world):
    planner = PlannerWorker(world.planning, horizon_days=40, time_limit_s=3)
    first = planner.check()
    assert first is not None and first["created"]
    before = _job_day(world, "acme-p1")
    assert planner.check() is None  # nothing changed: no re-plan
    world.store.save_forecast(_forecast("acme-p1", 60.0))  # now about 4 operating days
    again = planner.check()
    assert again is not None and "forecasts of 1 assets moved" in planner.last["reasons"]
    assert _job_day(world, "acme-p1") < before
    assert planner.status()["replans"] == 2


def test_a_completed_replacement_closes_its_order_and_the_planner_plans_again(world):
    planner = PlannerWorker(world.planning, horizon_days=40, time_limit_s=3)
    planner.check()
    [order] = [o for o in world.orders.list_orders(MANUFACTURER) if o.asset_id == "acme-p1"]
    for status in ("dispatched", "in_progress"):
        world.orders.transition(MANUFACTURER, order.id, status)
    done = world.orders.complete(
        MANUFACTURER, order.id, condition="replaced", part_replaced=True, at=NOW
    )
    assert done.status.value == "done"
    assert world.orders.get(MANUFACTURER, order.id).status.value == "done"
    assert world.store.get_asset("acme-p1").installed_at == NOW  # a new life
    assert planner.check() is not None
    assert "work orders done" in planner.last["reasons"]


def test_a_job_completed_while_the_plan_is_made_is_not_overwritten_by_it(world, monkeypatch):
    import prognos.service.planning as planning

    planner = PlannerWorker(world.planning, horizon_days=40, time_limit_s=3)
    planner.check()
    [order] = [o for o in world.orders.list_orders(MANUFACTURER) if o.asset_id == "acme-p1"]
    world.store.save_forecast(_forecast("acme-p1", 60.0))  # the job should move earlier
    solve = planning.replan

    def crew_finishes_meanwhile(*args, **kwargs):
        for status in ("dispatched", "in_progress"):
            world.orders.transition(MANUFACTURER, order.id, status)
        world.orders.complete(MANUFACTURER, order.id, condition="replaced", part_replaced=True)
        return solve(*args, **kwargs)

    monkeypatch.setattr(planning, "replan", crew_finishes_meanwhile)
    out = planner.check()
    assert out is not None and out["deferred"] == ["acme-p1"]
    assert world.orders.get(MANUFACTURER, order.id).status.value == "done"
    mine = [o for o in world.orders.list_orders(MANUFACTURER) if o.asset_id == "acme-p1"]
    assert [o.id for o in mine] == [order.id]  # no second replacement of the new part
    monkeypatch.setattr(planning, "replan", solve)
    assert planner.check() is not None and "work orders done" in planner.last["reasons"]


def test_a_retired_asset_leaves_plans_kpis_and_alarms_but_stays_in_training_data(world):
    planner = PlannerWorker(world.planning, horizon_days=40, time_limit_s=3)
    planner.check()
    [order] = [o for o in world.orders.list_orders(MANUFACTURER) if o.asset_id == "acme-p1"]
    world.lifecycle.retire(MANUFACTURER, "acme-p1")
    assert planner.check() is not None and "installed base changed" in planner.last["reasons"]
    assert world.orders.get(MANUFACTURER, order.id).status.value == "cancelled"
    assert "acme-p1" not in {j["asset_id"] for j in world.planning.plan(
        MANUFACTURER, horizon_days=40, time_limit_s=3, commit=False)["plan"]["jobs"]}  # fmt: skip
    live = world.fleet.page(MANUFACTURER, FleetQuery())
    assert "acme-p1" not in {r["id"] for r in live.rows} and live.total == 3
    retired = world.fleet.page(MANUFACTURER, FleetQuery(state="retired"))
    assert [r["id"] for r in retired.rows] == ["acme-p1"]
    assert retired.rows[0]["state"] == "retired"
    with pytest.raises(Exception, match="retired"):
        world.alarms.report(MANUFACTURER, "acme-p1", "leak", "a leak")
    # its history still trains: the health model reads every asset's lives, retired ones too
    _readings(world, "acme-p1", NOW - timedelta(days=10), 80)
    _readings(world, "acme-p2", NOW - timedelta(days=10), 80)
    card = world.training.train_health(MANUFACTURER, "pump")
    assert card["lives"] == 2 and card["assets"] == 4


def _readings(p, asset_id: str, start: datetime, n: int, temp: float = 60.0, step_h: float = 1):
    rng = np.random.default_rng(abs(hash(asset_id)) % 2**32)
    ts = [start + timedelta(hours=step_h * i) for i in range(n)]
    rows = []
    for i, t in enumerate(ts):
        rows.append((asset_id, "temp", t, temp + rng.normal(0, 0.5)))
        rows.append((asset_id, "vibration", t, 3.0 + 0.01 * i % 1 + rng.normal(0, 0.1)))
    df = pd.DataFrame(rows, columns=["asset_id", "channel", "ts", "value"])
    df.insert(0, "record", range(len(df)))
    df["cycle"] = None
    out = p.telemetry.ingest_long(MANUFACTURER, df[["record", "asset_id", "channel", "ts",
                                                    "cycle", "value"]], "test")  # fmt: skip
    assert not out.rejected, out.rejected[:2]


def test_a_replacement_resets_the_health_baseline(seeded):
    p = seeded
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for aid in ("acme-p1", "acme-p2", "globex-p1"):
        _readings(p, aid, start, 120)
    p.training.train_health(MANUFACTURER, "pump")
    h = p.forecasts.score_health(MANUFACTURER, "acme-p1")
    assert h.extra["baseline"] == "own" and h.score > 70 and not h.anomalies
    # the old part runs 8 degrees hot before it is replaced
    _readings(p, "acme-p1", start + timedelta(hours=120), 40, temp=68.0)
    worn = p.forecasts.score_health(MANUFACTURER, "acme-p1")
    assert "temp" in worn.anomalies and worn.score < 40
    # the new part runs 8 degrees hotter than the old one did when new (a different batch):
    # against the old baseline that is an anomaly; against its own it is normal
    replaced = start + timedelta(hours=161)
    p.registry.restart_life(MANUFACTURER, p.store.get_asset("acme-p1"), replaced)
    _readings(p, "acme-p1", replaced, 5, temp=68.0)
    young = p.forecasts.score_health(MANUFACTURER, "acme-p1")
    assert young.extra["baseline"] == "type (new part)"  # too few readings for its own yet
    _readings(p, "acme-p1", replaced + timedelta(hours=5), 75, temp=68.0)
    fresh = p.forecasts.score_health(MANUFACTURER, "acme-p1")
    assert fresh.extra["baseline"] == "own"
    assert fresh.score > 70 and "temp" not in fresh.anomalies


def test_an_asset_that_falls_silent_is_offline_while_the_fleet_goes_on(seeded):
    p = seeded
    start = NOW - timedelta(hours=40)
    for aid in ("acme-p2", "globex-p1", "globex-p2"):
        _readings(p, aid, start, 40)  # hourly, up to now
    _readings(p, "acme-p1", start, 20)  # silent for the last 20 hours
    p.lifecycle.last_seen(fresh=True)
    states = p.lifecycle.states(MANUFACTURER)
    assert states["acme-p1"].state.value == "offline"
    assert states["acme-p1"].last_seen == start + timedelta(hours=19)
    assert {states[a].state.value for a in ("acme-p2", "globex-p1", "globex-p2")} == {"in_service"}
    page = p.fleet.page(MANUFACTURER, FleetQuery(state="offline"))
    assert [r["id"] for r in page.rows] == ["acme-p1"]
    assert page.summary["states"]["offline"] == 1


@pytest.mark.integration
def test_two_servers_on_one_postgresql_run_one_planner(pg_server, tmp_path):
    url = pg_server.create_database("two_planners")
    settings = Settings(db=url, artifacts_dir=tmp_path / "a", plan_interval=0.1, plan_time_limit=3)
    a, b = open_platform(settings), open_platform(settings)
    try:
        seed(a)
        _resources(a)
        a.store.save_forecast(_forecast("acme-p1", 400.0))
        planners = [workers_for(x)["planner"] for x in (a, b)]
        for w in planners:
            w.start()
        wait_until(lambda: sum(w.replans for w in planners) >= 1, 60, "a plan")
        a.store.save_forecast(_forecast("acme-p1", 60.0))  # a second reason to plan
        wait_until(lambda: sum(w.replans for w in planners) >= 2, 60, "a second plan")
        leaders = [w for w in planners if w.status().get("leader")]
        assert len(leaders) == 1
        assert [w.replans for w in planners if w is not leaders[0]] == [0]
        orders = [o for o in a.orders.list_orders(MANUFACTURER) if o.status.value == "scheduled"]
        assert len(orders) == 1  # one planner: one order, not one per server
    finally:
        for w in planners:
            w.stop()
        a.close()
        b.close()
