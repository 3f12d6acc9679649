"""The demo world: who and what it registers, its past, a plan on it, and the simulator over it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from prognos.config import Settings
from prognos.demo.history import build_demo_world
from prognos.demo.simulator import Simulator, live_fleet
from prognos.demo.world import SIM_STATE
from prognos.domain import FailureForecast
from prognos.domain.keys import MANUFACTURER
from prognos.service.platform import open_platform
from prognos.sim.live import CHAIN_DRIVE, ELEVATOR, TURBOFAN

# A fixed day: the world, its calendars and the plan on them are then the same on every run
# (with "now", whether a turbofan came due inside the horizon depended on the hour).
NOW = datetime(2026, 12, 1, 19, 50, tzinfo=UTC)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    p = open_platform(Settings(db=str(tmp / "demo.duckdb"), artifacts_dir=tmp / "artifacts"))
    summary = build_demo_world(p, seed=0, now=NOW, max_units=4, history_step_minutes=360.0)
    yield p, summary
    p.close()


def test_customers_sites_and_their_calendars(world):
    p, summary = world
    assert summary["rejected"] == 0 and summary["readings"] > 50_000
    customers = {c.id for c in p.store.list_customers()}
    assert {"liftwerk", "alpenquell", "autowerk", "aerolinea", "nordjet"} <= customers
    sites = {s.id: s for s in p.store.list_sites()}
    assert sites["liftwerk-shanghai-pudong"].timezone == "Asia/Shanghai"
    assert sites["liftwerk-berlin-mitte"].timezone == "Europe/Berlin"
    assert len({s.region for s in sites.values()}) >= 6
    cals = {c.site_id: c for c in p.calendars.list_calendars(MANUFACTURER)}
    assert set(cals) == set(sites)  # every site, airlines' hangars included, has a calendar
    for c in cals.values():
        kinds = {w.kind for w in c.windows}
        hangar = c.site_id.endswith("-hangar")  # an airline's engines fly every day
        assert ({"shift", "stop"} if hangar else {"shift", "stop", "shutdown"}) <= kinds, c.site_id
        assert ("shutdown" in kinds) is not hangar, c.site_id
        assert c.timezone == sites[c.site_id].timezone
    hangar = next(c for c in cals.values() if c.site_id.endswith("-hangar"))
    shift_days = {w.start.astimezone(UTC).date() for w in hangar.windows if w.kind == "shift"}
    first = min(shift_days)
    assert {first + timedelta(days=k) for k in range(7)} <= shift_days  # Sundays too
    types = {a.type_id for a in p.store.list_assets()}
    assert types == {ELEVATOR, CHAIN_DRIVE, TURBOFAN}


def test_crews_parts_costs_and_travel(world):
    p, _ = world
    crews = p.resources.crews(MANUFACTURER)
    skills = set().union(*(c.skills for c in crews))
    assert skills == {ELEVATOR, CHAIN_DRIVE, TURBOFAN}
    assert {c.home_region for c in crews} >= {"cn-east", "de-east", "europe"}
    costs = p.resources.cost_models(MANUFACTURER)
    assert set(costs) == {ELEVATOR, CHAIN_DRIVE, TURBOFAN}
    assert all(cm.wasted_life_cost_per_unit > 0 for cm in costs.values())
    assert all(cm.unplanned_cost > cm.planned_cost() for cm in costs.values())
    parts = {s.part for s in p.resources.stock(MANUFACTURER)}
    assert parts == {cm.part for cm in costs.values()}
    assert p.resources.travel(MANUFACTURER).hours("de-east", "de-north") == 3.0


def test_history_with_labelled_failures_and_new_lives(world):
    p, summary = world
    assets = {a.id: a for a in p.store.list_assets()}
    events = [
        e
        for e in p.store.list_documents("event", status="failure")
        if assets[e["asset_id"]].type_id != TURBOFAN
    ]
    assert len(events) == summary["failures"] > 0
    by_type = {
        t: [e for e in events if assets[e["asset_id"]].type_id == t]
        for t in (ELEVATOR, CHAIN_DRIVE)
    }
    assert len(by_type[ELEVATOR]) >= 5 and len(by_type[CHAIN_DRIVE]) >= 3
    for e in events:
        a = assets[e["asset_id"]]
        at, start = datetime.fromisoformat(e["at"]), datetime.fromisoformat(e["life_start"])
        unit = 3600.0 if a.type_id == ELEVATOR else 86400.0
        assert e["age"] == pytest.approx((at - start).total_seconds() / unit, rel=1e-6)
        assert a.installed_at > at or any(  # the part was replaced: a new life began
            datetime.fromisoformat(o["at"]) > at for o in events if o["asset_id"] == a.id
        )
    # every elevator and chain has readings up to the end of history
    end = datetime.fromisoformat(summary["history_end"])
    for a in assets.values():
        if a.type_id == TURBOFAN and a.id.startswith("fd001-r"):
            continue  # C-MAPSS run-to-failure engines failed before
        lo, hi, n = p.store.telemetry_span(a.id)
        assert n > 0 and end - timedelta(hours=7) <= hi <= end, a.id
    assert p.state.get(MANUFACTURER, SIM_STATE)["seed"] == 0


def test_a_plan_can_be_made_from_seeded_forecasts(world):
    p, summary = world
    end = datetime.fromisoformat(summary["history_end"])
    fleet = live_fleet(p)
    soon = 0
    for a in fleet.assets:
        age = (end - a.installed_at).total_seconds() / (
            3600.0 if a.type_id == ELEVATOR else 86400.0
        )
        rul = max(fleet.life(a.asset_id) - age, 1.0)
        soon += rul < (30 * 24 if a.type_id == ELEVATOR else 30)
        unit = {ELEVATOR: "hours", CHAIN_DRIVE: "days", TURBOFAN: "cycles"}[a.type_id]
        p.store.save_forecast(
            FailureForecast(
                a.asset_id, end, (0.1, 0.5, 0.9), (0.6 * rul, rul, 1.5 * rul), unit, "oracle", "t"
            )
        )
    assert soon > 0
    out = p.planning.plan(MANUFACTURER, horizon_days=56, time_limit_s=3, now=end)
    jobs = out["plan"]["jobs"]
    assert jobs and out["created"]
    kinds = {p.store.get_asset(j["asset_id"]).type_id for j in jobs}
    assert len(kinds) >= 2
    crews = {c.id: c for c in p.resources.crews(MANUFACTURER)}
    for j in jobs:
        assert p.store.get_asset(j["asset_id"]).type_id in crews[j["crew_id"]].skills


def test_the_simulator_continues_each_history_in_process_and_stops(world):
    p, summary = world
    end = datetime.fromisoformat(summary["history_end"])
    fleet = live_fleet(p)
    assert {a.type_id for a in fleet.assets} == {ELEVATOR, CHAIN_DRIVE, TURBOFAN}
    assert all(a.last_ts is not None for a in fleet.assets)
    retired = {e["asset_id"] for e in p.store.list_documents("event", status="failure")}
    assert not any(a.asset_id.startswith("fd001-r") for a in fleet.assets)
    assert retired - {a.asset_id for a in fleet.assets}  # run-to-failure engines stay quiet
    # run until the first elevator or chain wears out (the demo's catch-up shows one or more)
    unit = {ELEVATOR: 3600.0, CHAIN_DRIVE: 86400.0, TURBOFAN: 86400.0}
    first = min(
        a.installed_at + timedelta(seconds=fleet.life(a.asset_id) * unit[a.type_id])
        for a in fleet.assets
        if a.type_id != TURBOFAN
    )
    assert first < end + timedelta(days=27)
    stop_at = first + timedelta(hours=1)
    before = p.store.count_readings()
    # where each history ended; an asset replaced during the run gets a new spec in the fleet
    history_ends = {a.asset_id: a.last_ts for a in fleet.assets}
    # a fake wall clock keeps "now" where the test wants it; the run takes about 2 s
    sim = Simulator(
        p, fleet, speed=(stop_at - end).total_seconds() / 2, tick_s=0.05, clock=lambda: stop_at
    )
    sim.start()
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    while (sim.sim_time < stop_at or sim.backlog_s > 0) and datetime.now(UTC) < deadline:
        sim._stop.wait(0.1)
    sim.stop()
    assert not sim.running
    st = sim.status()
    assert st["errors"] == 0 and st["readings"] > 0
    assert st["failures"] >= 1
    assert p.store.count_readings() - before == st["readings"]
    # every asset went on from where its history ended, on its own grid
    # every asset went on from where its history ended, on its own grid: how many did within
    # the run depends on the day (a turbofan flies a cycle a day, chains are read on workdays)
    went_on = [a for a in history_ends if p.store.telemetry_span(a)[1] > history_ends[a]]
    assert len(went_on) >= len(history_ends) // 2, (len(went_on), len(history_ends))
    assert p.telemetry.quarantined(MANUFACTURER) == []
    live = [
        f
        for f in p.store.list_documents("event", status="failure")
        if str(f.get("work_order", "")).endswith("-repair")
        and datetime.fromisoformat(f["at"]) > end
    ]
    assert len(live) == st["failures"]
    for f in live:  # the broken part was replaced by a repair order: a new life, readings again
        a = p.store.get_asset(f["asset_id"])
        assert a.installed_at > datetime.fromisoformat(f["at"])
        assert sim.fleet.installed(a.id) == a.installed_at
        repair = p.orders.get(MANUFACTURER, f["work_order"])
        assert repair.status == "done" and repair.finding.failure_found
