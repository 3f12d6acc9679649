"""The demo tells a true story (issue 11, acceptance 3): after the catch-up, run by the
platform's own workers and the simulator, alarms are on parts that are still there, live assets
report, and every asset likely to fail within 14 days has a job or a stated reason why not.

A smaller world than `make demo` (eight C-MAPSS engines per split, readings every six hours in
the history) and a week of catch-up, so it runs in about a minute or two.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from prognos.config import Settings
from prognos.demo.catchup import run_catch_up
from prognos.demo.history import build_demo_world
from prognos.domain.keys import MANUFACTURER
from prognos.service.alarm_desk import AlarmQuery
from prognos.service.fleet import FleetQuery
from prognos.service.platform import open_platform

NOW = datetime(2026, 12, 1, 19, 50, tzinfo=UTC)
CATCH_UP_DAYS = 7.0


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("story")
    p = open_platform(
        Settings(
            db=str(tmp / "demo.duckdb"),
            artifacts_dir=tmp / "artifacts",
            plan_interval=1.0,
            plan_time_limit=3.0,
            upkeep_interval=0,
            compact_hour=-1,
        )
    )
    build_demo_world(
        p, seed=0, now=NOW, catch_up_days=CATCH_UP_DAYS, max_units=8, history_step_minutes=360.0
    )
    for t in p.registry.asset_types(MANUFACTURER):
        p.training.train_health(MANUFACTURER, t.id)
        if not t.failure_threshold:
            p.training.train(MANUFACTURER, t.id)
    p.scoring.score_fleet(MANUFACTURER)
    run = run_catch_up(p, NOW, speed=86400.0 / 4, timeout_s=300)
    yield p, run
    p.close()


def test_the_catch_up_ran_the_loop(story):
    p, run = story
    sim, planner = run["simulator"], run["planner"]
    assert sim["errors"] == 0 and sim["readings"] > 0
    assert planner["replans"] >= 2  # the first plan and at least one re-plan by itself
    assert sim["jobs_done"] >= 1  # crews did planned jobs during the week


def test_no_open_alarm_is_on_a_part_that_was_replaced(story):
    p, _ = story
    assets = {a.id: a for a in p.store.list_assets()}
    open_ = p.alarms.page(MANUFACTURER, AlarmQuery(state="open", size=500)).items
    stale = [a.id for a in open_ if a.first_seen < assets[a.asset_id].installed_at]
    assert stale == []
    assert all(not assets[a.asset_id].retired for a in open_)


def test_live_assets_report_and_run_to_failure_engines_are_retired_history(story):
    p, _ = story
    p.lifecycle.last_seen(fresh=True)
    states = p.lifecycle.states(MANUFACTURER)
    clock = p.lifecycle.data_clock()
    late = [
        aid
        for aid, s in states.items()
        if s.state.value == "in_service"
        and s.offline_after_s is not None
        and s.last_seen is not None
        and (clock - s.last_seen).total_seconds() > s.offline_after_s
    ]
    assert late == []
    retired = [a for a in p.store.list_assets() if a.retired]
    assert retired and all(a.id.startswith("fd001-r") for a in retired)
    live = p.fleet.page(MANUFACTURER, FleetQuery(size=500))
    assert not any(r["id"].startswith("fd001-r") for r in live.rows)


def test_every_asset_likely_to_fail_within_14_days_has_a_job_or_a_reason(story):
    p, _ = story
    risky = p.planning.at_risk(MANUFACTURER, days=14, threshold=0.5)
    for r in risky:
        f = p.store.latest_forecast(r["asset_id"])
        orders = [(o.id, o.status.value) for o in p.orders.list_orders(MANUFACTURER)
                  if o.asset_id == r["asset_id"]]  # fmt: skip
        why = (r, f.as_of, f.values, p.store.get_asset(r["asset_id"]).installed_at, orders)
        assert r.get("order") or (r.get("why_not") and r["why_not"] != "uncovered"), why


def test_the_fleet_kpis_are_believable(story):
    p, _ = story
    live = p.fleet.page(MANUFACTURER, FleetQuery(size=500))
    risky = {r["asset_id"] for r in p.planning.at_risk(MANUFACTURER, days=14, threshold=0.5)}
    critical = [r for r in live.rows if r["band"] == "critical"]
    # critical means: likely to fail within 14 days (and then planned), or readings unusual
    # enough that it names the channels that pulled it down
    for r in critical:
        h = p.store.latest_health(r["id"])
        assert r["id"] in risky or h.anomalies or h.drivers, (r["id"], h.score, h.extra)
    # a few parts near their end, not half the fleet
    assert len(critical) <= len(live.rows) // 4, [(r["id"], r["health"]) for r in critical]
