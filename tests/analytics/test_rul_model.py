"""The sensor RUL model learns degradation, its intervals cover, and it runs end to end on FD001."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from test_rul_features import six_regimes

from prognos.analytics.rul import RulEstimator, SensorRulModel
from prognos.domain.forecast import DEFAULT_LEVELS, FailureForecast

SMALL = {"n_estimators": 60, "learning_rate": 0.1, "n_folds": 3}


def degrading_units(n: int, seed: int) -> pd.DataFrame:
    """Units whose 'wear' sensor rises (noisily, exponentially) until failure; 'noise' is noise."""
    rng = np.random.default_rng(seed)
    frames = []
    for u in range(n):
        life = int(rng.integers(120, 260))
        t = np.arange(1, life + 1)
        wear = np.exp(4.0 * t / life) + rng.normal(0, 1.0, life)
        frames.append(
            pd.DataFrame({"unit": u, "cycle": t, "wear": wear, "noise": rng.normal(0, 1, life)})
        )
    return pd.concat(frames, ignore_index=True)


def cut(frame: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Each unit truncated at a random cycle, with its true (capped) RUL there."""
    rng = np.random.default_rng(seed)
    parts, truth = [], []
    for _, g in frame.groupby("unit"):
        k = int(rng.integers(20, len(g) + 1))
        parts.append(g.iloc[:k])
        truth.append(min(len(g) - k, 125))
    return pd.concat(parts, ignore_index=True), np.array(truth, dtype=float)


@pytest.fixture(scope="module")
def synthetic_model() -> SensorRulModel:
    return SensorRulModel(settings=(), estimator=RulEstimator(**SMALL), random_state=0).fit(
        degrading_units(40, seed=0)
    )


def test_learns_a_monotone_degradation_signal(synthetic_model):
    assert synthetic_model.normalizer_.sensors_ == ["wear", "noise"]
    hist, truth = cut(degrading_units(30, seed=1), seed=2)
    pred = synthetic_model.predict_last(hist).to_numpy()
    assert np.sqrt(np.mean((pred - truth) ** 2)) < 15.0
    one = degrading_units(1, seed=3)
    # once the true RUL is below the cap, every later cut (10 cycles on) predicts less
    cuts = range(len(one) - 115, len(one) + 1, 10)
    along = [synthetic_model.predict_last(one.iloc[:k]).iloc[0] for k in cuts]
    assert np.mean(np.diff(along) < 0) >= 0.9
    assert along[-1] < 20 and along[0] > 90


def test_quantiles_are_monotone_and_cover(synthetic_model):
    hist, truth = cut(degrading_units(60, seed=4), seed=5)
    q = synthetic_model.predict_quantiles_last(hist)
    assert list(q.columns) == list(DEFAULT_LEVELS)
    assert np.all(np.diff(q.to_numpy(), axis=1) >= 0)
    inside = (truth >= q[0.05].to_numpy()) & (truth <= q[0.95].to_numpy())
    assert 0.8 <= inside.mean() <= 1.0


def test_conformal_coverage_is_near_nominal_on_grouped_data():
    rng = np.random.default_rng(0)

    def draw(n_groups, per):
        g = np.repeat(np.arange(n_groups), per)
        x = rng.uniform(0, 10, (len(g), 3))
        shift = rng.normal(0, 2, n_groups)[g]  # shared within a group, like a unit's own offset
        y = 10 * x[:, 0] + shift + rng.normal(0, 1 + x[:, 0], len(g))  # heteroscedastic
        return x, y, g

    x, y, g = draw(150, 20)
    est = RulEstimator(cap=None, **SMALL, random_state=0).fit(x, y, groups=g)
    xt, yt, _ = draw(400, 5)
    lo, hi = est.predict_interval(xt, 0.9)
    cover = np.mean((yt >= lo) & (yt <= hi))
    assert 0.86 <= cover <= 0.95
    # binned by prediction, intervals widen where the noise is larger
    assert np.mean((hi - lo)[xt[:, 0] > 8]) > 2 * np.mean((hi - lo)[xt[:, 0] < 2])


def test_fd001_smoke_end_to_end(fd001):
    data = fd001
    train = data.train[data.train["unit"] <= 15]
    test = data.test[data.test["unit"] <= 4]
    model = SensorRulModel(estimator=RulEstimator(n_estimators=30, n_folds=3), random_state=0)
    model.fit(train)
    assert model.normalizer_.n_regimes_ == 1
    q = model.predict_quantiles_last(test)
    assert q.shape == (4, len(DEFAULT_LEVELS))
    assert q.to_numpy().min() >= 0 and q.to_numpy().max() <= 125
    one = test[test["unit"] == 2].drop(columns=["unit"])
    fc = model.forecast(one, "engine-2", as_of=datetime(2026, 1, 1, tzinfo=UTC))
    assert isinstance(fc, FailureForecast)
    assert fc.levels == DEFAULT_LEVELS and fc.time_unit == "cycles"
    assert fc.p10 <= fc.p50 <= fc.p90
    assert fc.extra["capped_at"] == 125
    # stored telemetry has gaps and whole missing channels; the model is pickled by the service
    gappy = one.copy()
    gappy.loc[gappy.index[::7], "sensor_11"] = np.nan
    gappy["sensor_4"] = np.nan
    again = pickle.loads(pickle.dumps(model)).forecast(gappy, "engine-2")
    assert np.all(np.isfinite(again.values))
    assert again.p50 == pytest.approx(fc.p50, abs=30)


def test_six_operating_regimes_are_normalised_before_learning(fd001):
    data = fd001
    train = six_regimes(data.train[data.train["unit"] <= 30], seed=1)
    test = six_regimes(data.test[data.test["unit"] <= 20], seed=2)
    model = SensorRulModel(estimator=RulEstimator(**SMALL), random_state=0).fit(train)
    assert model.normalizer_.n_regimes_ == 6
    pred = model.predict_last(test).to_numpy()
    truth = np.minimum(data.test_rul[:20], 125)
    assert np.sqrt(np.mean((pred - truth) ** 2)) < 25.0


def test_scoring_at_the_last_row_gives_todays_quantiles(fd001):
    """``predict_quantiles_last`` computes features at each unit's last row only; the quantiles
    are those of the every-row features (the definition, and what scoring used before)."""
    data = fd001
    model = SensorRulModel(estimator=RulEstimator(n_estimators=30, n_folds=3), random_state=0)
    model.fit(data.train[data.train["unit"] <= 15])
    rng = np.random.default_rng(5)
    test = pd.concat(
        [g.iloc[: int(rng.integers(1, len(g) + 1))] for _, g in data.test.groupby("unit")],
        ignore_index=True,
    )
    feats = model.features(test)
    last = feats.groupby("unit", sort=True).tail(1)
    today = model.estimator_.predict_quantiles(last[model.feature_names_].to_numpy())
    q = model.predict_quantiles_last(test)
    assert list(q.index) == sorted(test["unit"].unique())
    np.testing.assert_array_equal(q.to_numpy(), today)
