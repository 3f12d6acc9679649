"""The simulated world: disjoint C-MAPSS halves, calendars that survive .ics, honest telemetry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from prognos.planning.calendar import day_profile, from_ics
from prognos.sim.calendars import make_spec, to_ics
from prognos.sim.cmapss import load_trajectories, split
from prognos.sim.fleet import Fleet
from prognos.sim.world import CHAIN, CHAIN_LIMIT, TURBOFAN, build_world, chain_path

START = date(2027, 1, 4)


@pytest.fixture(scope="module")
def world():
    return build_world(3, n_customers=6, n_regions=2, n_days=200)


def test_training_and_simulated_units_are_disjoint():
    trajs = load_trajectories()
    assert len(trajs) == 200
    train, held = split(trajs, seed=5)
    assert not {t.name for t in train} & {t.name for t in held}
    assert len(train) + len(held) == 200
    assert all(t.life >= 100 for t in trajs)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_calendar_survives_the_round_trip_through_ics(seed):
    spec = make_spec("S1", START, 400, np.random.default_rng(seed))
    cal = from_ics(to_ics(spec, START), "S1", until=datetime(2028, 3, 1, tzinfo=UTC))
    prof = day_profile(cal, START, 400)
    op, black = spec.truth(START, 400)
    assert (prof.operating == op).all()
    assert (prof.blackout == black).all()
    assert len(spec.shutdowns) >= 1 and len(spec.stops) >= 5


def test_chains_break_at_the_limit():
    e, life = chain_path(np.random.default_rng(0))
    assert e[life] >= CHAIN_LIMIT > e[life - 1]
    assert np.all(np.diff(e) >= 0)


def test_telemetry_shows_the_past_only(world):
    f = Fleet(world, seed=1)
    idx, win, ages = f.turbofan_windows(30)
    i = int(idx[0])
    assert np.array_equal(win[0, -1], f._traj[i][max(ages[0], 1) - 1])
    idx, win, ages = f.chain_windows(60)
    j = int(idx[0])
    assert win[0, -1] == f._chain[j][ages[0]]


def test_failures_happen_at_end_of_life_and_reset_age(world):
    f = Fleet(world, seed=1)
    for _ in range(world.n_days):
        for i in f.end_day():
            assert f.age[i] == 0
    t = f.tally
    assert t.unplanned_stoppages > 0 and t.planned_jobs == 0
    assert set(t.by_type) <= {TURBOFAN, CHAIN}
    assert t.parts_used == t.unplanned_stoppages


def test_every_policy_sees_the_same_components(world):
    a, b = Fleet(world, seed=2), Fleet(world, seed=2)
    b.replace([0])  # a planned job draws the asset's next component early
    assert b.tally.planned_jobs == 1 and b.tally.wasted[0] == a._life[0] - a.age[0]
    a.age[0] = a._life[0] - 1
    a.end_day()  # a fails and installs its next component: the same one b got
    assert a._life[0] == b._life[0]


def test_days_are_local_dates_of_the_start(world):
    f = Fleet(world, seed=0)
    site = world.sites[0]
    op, _ = world.calendars[site.id].truth(world.start, world.n_days)
    assert (f.operating[0] == op).all()
    saturday = (5 - world.start.weekday()) % 7
    assert world.start + timedelta(days=saturday) == date(2027, 1, 9)
