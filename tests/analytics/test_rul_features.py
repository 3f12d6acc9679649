"""Window features are causal and exact; operating regimes are found and normalised away."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prognos.analytics.cmapss import SENSORS, SETTINGS, run_to_failure_rul
from prognos.analytics.features import window_features
from prognos.analytics.regimes import RegimeNormalizer, find_regimes

SIX_CONDITIONS = np.array(
    [[0, 0, 100], [10, 0.25, 100], [20, 0.7, 100], [25, 0.62, 60], [35, 0.84, 100], [42, 0.84, 100]]
)


def six_regimes(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """FD001 rows flown at six operating conditions: settings set, sensors offset and scaled."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    reg = rng.integers(0, 6, len(out))
    out[list(SETTINGS)] = SIX_CONDITIONS[reg] + rng.normal(0, 0.002, (len(out), 3))
    for j, s in enumerate(SENSORS):
        out[s] = out[s] * (1 + 0.05 * reg) + 7.0 * reg * (j % 4 + 1)
    return out


def test_slope_and_means_are_exact_on_a_line():
    t = np.arange(1, 41, dtype=float)
    v = (3.0 + 0.5 * t)[:, None]
    f = window_features(v, np.zeros(40, dtype=int), t, ["x"], windows=(5,), slope_windows=(10,))
    assert f["x__slope10"].iloc[1:].to_numpy() == pytest.approx(0.5)
    assert f["x__mean5"].iloc[-1] == pytest.approx(np.mean(v[-5:, 0]))
    assert f["age"].iloc[-1] == 39 and f["n_obs"].iloc[-1] == 40


def test_features_of_a_row_do_not_look_ahead():
    rng = np.random.default_rng(1)
    units = np.repeat([1, 2, 3], 50)
    t = np.tile(np.arange(50, dtype=float), 3)
    v = rng.normal(size=(150, 2)).cumsum(axis=0)
    full = window_features(v, units, t, ["a", "b"])
    cut = np.r_[np.arange(0, 50), np.arange(50, 73)]  # unit 2 cut at its 23rd row
    part = window_features(v[cut], units[cut], t[cut], ["a", "b"])
    pd.testing.assert_series_equal(full.iloc[72], part.iloc[72], check_names=False)


@pytest.fixture(scope="module")
def fd001_head(fd001) -> pd.DataFrame:
    train = fd001.train
    return train[train["unit"] <= 12].reset_index(drop=True)


def test_one_regime_for_fd001_and_six_when_flown_at_six_conditions(fd001_head):
    assert find_regimes(fd001_head[list(SETTINGS)].to_numpy()) is None
    km = find_regimes(six_regimes(fd001_head)[list(SETTINGS)].to_numpy())
    assert km is not None and km.n_clusters == 6


def test_per_regime_normalisation_removes_the_operating_point(fd001_head):
    frame = six_regimes(fd001_head)
    norm = RegimeNormalizer(settings=SETTINGS, sensors=SENSORS).fit(frame)
    out = norm.transform(frame)
    assert norm.n_regimes_ == 6
    assert {"sensor_1", "sensor_5", "sensor_18"} <= set(norm.dropped_sensors_)
    assert "sensor_11" in norm.sensors_
    for _, g in out.groupby("regime"):
        assert g["sensor_11"].mean() == pytest.approx(0, abs=1e-6)
        assert g["sensor_11"].std() == pytest.approx(1, rel=0.05)
    # the wear signal survives: sensor_11 rises towards failure in every regime
    rul = run_to_failure_rul(frame)
    assert np.corrcoef(out["sensor_11"], rul)[0, 1] < -0.5


def test_a_units_features_do_not_depend_on_the_other_units_in_the_batch():
    """Scoring one engine alone or among a fleet must give the same numbers, bit for bit."""
    from prognos.analytics.features import window_features

    rng = np.random.default_rng(0)
    n = [180, 250, 90]
    units = np.repeat([1, 2, 3], n)
    times = np.concatenate([np.arange(1, k + 1) for k in n]).astype(float)
    values = rng.normal(9000, 5, size=(len(units), 2))  # large levels expose running-sum rounding
    together = window_features(values, units, times, ["a", "b"])
    alone = window_features(values[units == 3], units[units == 3], times[units == 3], ["a", "b"])
    np.testing.assert_array_equal(together[units == 3].to_numpy(), alone.to_numpy())


def test_last_row_features_equal_the_full_computation_at_each_units_last_row(fd001):
    """Scoring computes only the last row; it must be what training's every-row pass gives."""
    from prognos.analytics.features import last_window_features

    rng = np.random.default_rng(3)
    test = fd001.test
    # units cut at random lengths, down to shorter than every window (1, 2 and 3 rows)
    cuts = {u: int(rng.integers(1, len(g) + 1)) for u, g in test.groupby("unit")}
    cuts.update({1: 1, 2: 2, 3: 3})
    d = pd.concat([g.iloc[: cuts[u]] for u, g in test.groupby("unit")], ignore_index=True)
    names = list(SENSORS)
    v, u, t = d[names].to_numpy(float), d["unit"].to_numpy(), d["cycle"].to_numpy(float)
    every = window_features(v, u, t, names)
    last = last_window_features(v, u, t, names)
    at_last = every[np.r_[u[1:] != u[:-1], True]]
    assert list(last.columns) == list(every.columns) and len(last) == test["unit"].nunique()
    # bit for bit: a tree's split can sit between two roundings of one window mean
    np.testing.assert_array_equal(last.to_numpy(), at_last.to_numpy())
    tight = last_window_features(v, u, t, names, max_cells=1)  # one unit at a time
    np.testing.assert_array_equal(tight.to_numpy(), last.to_numpy())


def test_last_row_features_of_a_unit_do_not_depend_on_the_batch():
    from prognos.analytics.features import last_window_features

    rng = np.random.default_rng(0)
    n = [180, 250, 4]
    units = np.repeat([1, 2, 3], n)
    times = np.concatenate([np.arange(1, k + 1) for k in n]).astype(float)
    values = rng.normal(9000, 5, size=(len(units), 2))
    together = last_window_features(values, units, times, ["a", "b"])
    for i, k in enumerate((1, 2, 3)):
        m = units == k
        alone = last_window_features(values[m], units[m], times[m], ["a", "b"])
        np.testing.assert_array_equal(together.iloc[[i]].to_numpy(), alone.to_numpy())
