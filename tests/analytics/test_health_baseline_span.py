"""A part's own health baseline spans at least a day of its life (issue 11, item 3), not only
its first 50 readings: a part reporting every few minutes has its daily cycle inside the
baseline, so it is healthy at night; until a day has passed its partial baseline's spreads are
widened by the type's."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
import pytest

from prognos.analytics.health import HealthModel
from prognos.analytics.health_fit import fit_health
from prognos.analytics.health_rule import GOOD, WATCH

T0 = pd.Timestamp("2026-01-01", tz="UTC")
MINUTES_5, HOURS_6 = pd.Timedelta(minutes=5), pd.Timedelta(hours=6)


def life(seed: int, start: pd.Timestamp, hours: float, step: pd.Timedelta) -> pd.DataFrame:
    """An elevator-like part: steady current and vibration, humidity +-12 % over the day
    (highest at 15:00, lowest at 03:00) around a level of its own."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range(start, start + pd.Timedelta(hours=hours), freq=step, inclusive="left")
    hour = ts.hour + ts.minute / 60
    n = len(ts)
    level, vib, amps = rng.uniform(40, 60), rng.uniform(2, 3), rng.uniform(4, 5)
    return pd.DataFrame(
        {
            "current": amps + 0.06 * rng.standard_normal(n),
            "vibration": vib + 0.25 * rng.standard_normal(n),
            "humidity": level
            + 12 * np.sin(2 * np.pi * (hour - 9) / 24)
            + 2 * rng.standard_normal(n),
        },
        index=ts,
    )


@pytest.fixture(scope="module")
def model() -> HealthModel:
    """Trained on a month of history per part, readings 6 hours apart (as the demo's history)."""
    lives = [life(i, T0 + pd.Timedelta(hours=7 * i), 24 * 30, HOURS_6) for i in range(8)]
    return fit_health(lives, [False] * len(lives))


def test_a_part_reporting_every_few_minutes_is_healthy_at_night_once_a_day_has_passed(model):
    new = life(101, T0 + pd.Timedelta(days=40, hours=9), 42, MINUTES_5)  # 09:00 to 03:00 + 1 day
    assert new.index[-1].hour == 2
    own = model.baseline(new)
    h = model.health(new.iloc[-30:], "p", baseline=own)
    assert own.complete and h.extra["baseline"] == "own"
    assert h.score >= GOOD and h.anomalies == {}
    # the first 50 readings alone (a few hours of the day) call the same healthy part sick
    count_only = copy.copy(model)
    count_only.baseline_span_hours = 0
    assert count_only.baseline(new).rows <= 50
    assert model.health(new.iloc[-30:], "p", baseline=count_only.baseline(new)).score < WATCH


def test_until_a_day_has_passed_the_partial_baseline_is_its_own_widened_by_the_types(model):
    new = life(102, T0 + pd.Timedelta(days=40, hours=15), 12, MINUTES_5)  # 15:00 to 03:00
    own = model.baseline(new)
    h = model.health(new.iloc[-30:], "p", baseline=own)
    assert own.own and not own.complete
    assert h.extra["baseline"] == "own (partial, widened)"
    assert (own.spread >= model.spread_).all()  # widened by the type's
    assert not np.allclose(own.center, model.center_)  # centred on the part itself
    assert h.score >= GOOD and h.anomalies == {}


def test_a_baseline_holds_its_first_rows_and_its_first_day_thinned_to_a_bound():
    m = HealthModel(baseline_rows=50, baseline_span_hours=24, baseline_max_rows=1000)

    def cut(step: pd.Timedelta, hours: float):
        ts = pd.date_range(T0, T0 + pd.Timedelta(hours=hours), freq=step, inclusive="left")
        times = ts.as_unit("us").asi8
        pos, complete = m.baseline_cut(times, np.zeros(len(ts), dtype=int))
        return times, pos, bool(complete[0])

    _, pos, complete = cut(HOURS_6, 24 * 30)  # 4 readings a day: the 50 rows span 12.5 days
    assert pos.tolist() == list(range(50)) and complete
    _, pos, complete = cut(MINUTES_5, 48)  # every 5 minutes: the first day's 288 readings
    assert pos.tolist() == list(range(288)) and complete
    assert not cut(MINUTES_5, 23)[2]  # the life is not a day old yet: not complete
    assert not cut(HOURS_6, 6 * 49)[2]  # a day old, 49 readings: not complete
    times, pos, complete = cut(pd.Timedelta(seconds=1), 30)  # every second: 86,400 in the day
    assert len(pos) == 1000 and complete
    assert pos[0] == 0 and pos[-1] == 86_399  # evenly over the whole day
    gaps = np.diff(times[pos])
    assert gaps.max() - gaps.min() <= 1_000_000  # evenly: within a reading


def test_many_assets_baselines_in_one_pass_equal_each_alone(model):
    """The fleet path (``baselines_many``) and one asset at a time (``baseline``) agree bit for
    bit: complete, partial, thinned and too short lives together."""
    lives = [
        life(201, T0, 42, MINUTES_5),
        life(202, T0 + pd.Timedelta(hours=3), 12, MINUTES_5),
        life(203, T0, 26, pd.Timedelta(seconds=30)),  # thinned: 2,880 readings in its day
        life(204, T0, 0.5, MINUTES_5),  # 6 readings: the type's baseline
        life(205, T0, 24 * 20, HOURS_6),
    ]
    m = copy.copy(model)
    m.baseline_max_rows = 500
    units = np.repeat(np.arange(len(lives)), [len(x) for x in lives])
    many = m.baselines_many(pd.concat(lives), units)
    assert [many[i].label for i in range(len(lives))] == [
        "own",
        "own (partial, widened)",
        "own",
        "type (new part)",
        "own",
    ]
    assert many[2].rows <= 500
    for i, one in enumerate(lives):
        alone = m.baseline(one)
        np.testing.assert_array_equal(many[i].center, alone.center)
        np.testing.assert_array_equal(many[i].spread, alone.spread)
        assert (many[i].rows, many[i].complete) == (alone.rows, alone.complete)


def test_training_pools_each_lifes_first_day_as_scoring_does():
    """Lives reporting every 5 minutes: their healthy period is their first day, so the type's
    humidity spread holds the daily cycle (the first 50 readings alone hold a few hours;
    both hold the parts' own levels, 40 to 60 %)."""
    lives = [life(300 + i, T0 + pd.Timedelta(hours=5 * i), 72, MINUTES_5) for i in range(6)]
    by_time = fit_health(lives, [False] * 6, choose=False)
    by_count = fit_health([x.reset_index(drop=True) for x in lives], [False] * 6, choose=False)
    j = list(by_time.feature_names_in_).index("humidity")
    assert by_time.spread_[0, j] > 1.4 * by_count.spread_[0, j]  # 11.4 against 7.2 %


def test_a_model_pickled_before_the_span_existed_takes_a_day(model):
    old = pickle.loads(pickle.dumps(model))
    del old.__dict__["baseline_span_hours"], old.__dict__["baseline_max_rows"]
    loaded = pickle.loads(pickle.dumps(old))
    assert (loaded.baseline_span_hours, loaded.baseline_max_rows) == (24.0, 1000)
    new = life(101, T0 + pd.Timedelta(days=40, hours=9), 42, MINUTES_5)
    assert loaded.health(new.iloc[-30:], "p", baseline=loaded.baseline(new)).score >= GOOD
    assert loaded.get_params()["baseline_span_hours"] == 24.0
