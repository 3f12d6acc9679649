"""``offline_prevented_share`` (issue 11): the offline benchmark's rolling planner replayed on
the loop's own world, the demo world, over the same days; the simulator's true ends of life
decide what it prevented. A tiny world (two C-MAPSS engines per split, readings every six hours
in the history), no training and no loop: the replay needs only the world and the truth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from prognos.bench._loop_offline import before_the_run, offline_prevention
from prognos.bench.loop import score_run
from prognos.config import Settings
from prognos.demo.history import build_demo_world
from prognos.service.platform import open_platform

NOW = datetime(2026, 12, 1, 19, 50, tzinfo=UTC)
DAYS = 28.0


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("offline")
    p = open_platform(Settings(db=str(tmp / "demo.duckdb"), artifacts_dir=tmp / "artifacts"))
    build_demo_world(
        p, seed=0, now=NOW, catch_up_days=DAYS, max_units=2, history_step_minutes=360.0
    )
    yield p
    p.close()


def ends_inside(run) -> list:
    return [lf for lf in run["lives"] if run["start"] < lf.end_of_life <= run["end"]]


def test_the_offline_planner_prevents_a_share_of_the_failures_the_simulator_knows(tiny):
    run = before_the_run(tiny, DAYS)
    assert ends_inside(run), "the tiny world has parts that wear out within four weeks"
    out = offline_prevention(tiny, run)
    share = out["offline_prevented_share"]
    assert isinstance(share, float) and 0.0 <= share <= 1.0
    # every part at its end inside the run either failed or was replaced first: each counts
    assert out["offline_failures"] >= len(ends_inside(run))
    assert out["offline_failures_preceded_by_job"] <= out["offline_failures"]
    assert share == round(out["offline_failures_preceded_by_job"] / out["offline_failures"], 3)
    assert out["offline_replans"] >= DAYS // 7  # the offline policy re-plans at least weekly
    assert "blurred" in out["offline_note"]


def test_a_run_in_which_no_part_reaches_its_end_gives_no_share_and_says_why(tiny):
    run = before_the_run(tiny, DAYS)
    first_end = min(lf.end_of_life for lf in run["lives"])
    quiet = {**run, "end": run["start"] + (first_end - run["start"]) / 2}
    out = offline_prevention(tiny, quiet)
    assert out["offline_prevented_share"] is None and out["offline_failures"] == 0
    assert "no part reached its end of life" in out["offline_note"]


def test_the_loop_figures_carry_the_offline_share_beside_the_loop_s_own(tiny):
    run = {**before_the_run(tiny, 10.0), "wall_s": 0.0, "simulator": {}}
    out = score_run(tiny, run)
    assert out["failures"] == len(ends_inside(run))
    assert out["offline_prevented_share"] is None or 0.0 <= out["offline_prevented_share"] <= 1.0
    assert out["offline_failures"] >= out["failures"]  # no part of the loop's was replaced
    assert out["offline_note"]


def test_a_replaced_part_gets_the_simulator_s_own_next_life(tiny):
    """The replay's new parts are the ones the simulator would fit at that moment."""
    fleet = before_the_run(tiny, DAYS)["fleet"]
    a = fleet.assets[0].asset_id
    at = NOW - timedelta(days=3)
    life = fleet.life_if_replaced(a, at)
    before = fleet.life(a)
    fleet.replace(a, at)
    assert fleet.life(a) == life
    assert life != before  # a new part, a new path
