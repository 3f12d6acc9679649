"""The forecast's lower tail: a power law below the lowest quantile, persisted, set by the models."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from prognos.analytics.reliability import WeibullModel, lower_tail_shape
from prognos.domain.forecast import DEFAULT_LEVELS, FailureForecast

NOW = datetime(2026, 1, 5, tzinfo=UTC)
VALUES = (20.0, 30.0, 45.0, 60.0, 75.0, 90.0, 100.0)  # at DEFAULT_LEVELS: t0 = 20 at p0 = 0.05


def fc(k: float = 1.0, **kw) -> FailureForecast:
    return FailureForecast("a", NOW, DEFAULT_LEVELS, VALUES, lower_tail_shape=k, **kw)


def old_cdf(f: FailureForecast, t: np.ndarray) -> np.ndarray:
    """The CDF as it was before the tail had a shape: a straight line from (0, 0)."""
    xs, ps = f._knots()  # noqa: SLF001 -- the reference needs the knots
    xs = np.maximum.accumulate(xs + np.arange(len(xs)) * 1e-12)
    return np.interp(t, xs, ps, left=0.0, right=1.0)


@pytest.mark.parametrize("k", [0.5, 1.0, 2.0, 3.5])
def test_below_the_lowest_quantile_the_cdf_is_a_power_law(k):
    t = np.array([0.2, 1.0, 5.0, 10.0, 19.0])
    assert fc(k).cdf(t) == pytest.approx(0.05 * (t / 20.0) ** k, rel=1e-9)
    assert fc(k).cdf(0.0) == 0.0 and fc(k).cdf(-3.0) == 0.0
    assert fc(k).cdf(20.0) == pytest.approx(0.05)  # continuous at the lowest quantile


@pytest.mark.parametrize("k", [0.5, 2.0, 3.5])
def test_the_shape_leaves_the_cdf_above_the_lowest_quantile_alone(k):
    t = np.linspace(20.0, 200.0, 181)
    assert np.array_equal(fc(k).cdf(t), fc(1.0).cdf(t))


@pytest.mark.parametrize("k", [0.5, 1.0, 2.0, 3.5])
def test_quantile_inverts_the_cdf_in_the_tail_and_beyond(k):
    f = fc(k)
    for q in (1e-6, 0.001, 0.01, 0.03, 0.05, 0.07, 0.3, 0.5, 0.93):
        assert f.cdf(f.quantile(q)) == pytest.approx(q, rel=1e-9)
    assert f.quantile(0.01) == pytest.approx(20.0 * 0.2 ** (1 / k))
    assert f.quantile(0.0) == 0.0


def test_shape_one_is_the_old_straight_line_exactly():
    f = fc(1.0)
    t = np.concatenate([np.linspace(-1, 160, 1611), [1e-9, 19.999999]])
    assert np.array_equal(f.cdf(t), old_cdf(f, t))
    assert FailureForecast("a", NOW, DEFAULT_LEVELS, VALUES).lower_tail_shape == 1.0


def test_a_wear_out_tail_claims_far_less_near_term_risk():
    # 1 time unit ahead of an asset whose 5 % quantile is 20: the line says 0.25 %, shape 3 0.0006 %
    assert fc(1.0).prob_fail_before(1.0) == pytest.approx(0.0025)
    assert fc(3.0).prob_fail_before(1.0) == pytest.approx(0.05 / 8000)


@pytest.mark.parametrize("k", [0.0, -1.0, float("nan"), float("inf"), None, "steep"])
def test_a_shape_that_is_not_a_positive_number_is_refused(k):
    with pytest.raises(ValueError, match="lower_tail_shape"):
        fc(k)


def test_round_trip_keeps_both_tails():
    f = fc(2.5, upper_tail=2.0, extra={"age": 3.0})
    back = FailureForecast.from_dict(json.loads(json.dumps(f.as_dict())))
    assert back == f
    assert (back.upper_tail, back.lower_tail_shape) == (2.0, 2.5)
    assert back.cdf(150.0) < 1.0  # the wider upper tail is still there
    assert back.quantile(0.01) == pytest.approx(f.quantile(0.01))


def test_bodies_stored_before_the_tails_were_persisted_keep_their_meaning():
    body = fc(1.0).as_dict()
    del body["upper_tail"], body["lower_tail_shape"]
    back = FailureForecast.from_dict(body)
    assert (back.upper_tail, back.lower_tail_shape) == (1.5, 1.0)


def test_shifted_carries_the_tail_shape():
    f = fc(3.0, upper_tail=1.8).shifted(5.0, NOW)
    assert (f.lower_tail_shape, f.upper_tail) == (3.0, 1.8)
    assert f.cdf(7.5) == pytest.approx(0.05 * 0.5**3)


# -- Weibull ------------------------------------------------------------------------------------
def weibull(shape: float, scale: float = 100.0) -> WeibullModel:
    lives = scale * np.random.default_rng(0).weibull(shape, 4000)
    return WeibullModel().fit(None, lives)


@pytest.mark.parametrize("shape", [1.5, 2.0, 3.0])
def test_a_new_parts_tail_follows_the_weibull_cdf(shape):
    m = weibull(shape)
    f = m.forecast("a", NOW, age=0.0)
    assert f.lower_tail_shape == pytest.approx(m.shape_)
    t0 = f.values[0]
    t = t0 * np.array([0.01, 0.05, 0.1, 0.25, 0.5, 0.9])
    true = 1.0 - m.survival(t)[0]
    # p0 (t/t0)^k vs 1 - exp(-(t/eta)^k): ratio -> p0 / -log(1 - p0) = 0.975 as t -> 0
    assert f.cdf(t) == pytest.approx(true, rel=0.03)
    line = FailureForecast("a", NOW, f.levels, f.values).cdf(t[0])
    assert line / true[0] > 0.9 * 100 ** (m.shape_ - 1)  # what the straight line claimed at t0/100


def test_an_old_parts_tail_is_nearly_a_line_and_a_young_ones_in_between():
    m = weibull(2.0)
    assert m.forecast("a", NOW, age=300.0).lower_tail_shape == pytest.approx(1.0, abs=0.02)
    young = m.forecast("a", NOW, age=5.0)
    assert 1.2 < young.lower_tail_shape < 1.9
    t = young.values[0] * np.array([0.25, 0.5, 0.75])
    s = np.exp((5.0 / m.scale_) ** m.shape_ - ((5.0 + t) / m.scale_) ** m.shape_)
    assert young.cdf(t) == pytest.approx(1.0 - s, rel=0.15)


def test_lower_tail_shape_is_the_shape_at_age_zero_and_one_for_old_parts():
    def t0(shape, age):  # the 5 % quantile of the remaining life (scale 100)
        return 100.0 * ((age / 100.0) ** shape - np.log(0.95)) ** (1 / shape) - age

    assert lower_tail_shape(2.5, 100.0, 0.0, 0.05, t0(2.5, 0.0)) == 2.5
    assert lower_tail_shape(2.5, 100.0, 500.0, 0.05, t0(2.5, 500.0)) == pytest.approx(1.0, abs=0.01)
    # infant mortality (shape < 1): a new part's tail is steeper than a line, an old one's a line
    assert lower_tail_shape(0.7, 100.0, 0.0, 0.05, t0(0.7, 0.0)) == 0.7
    assert lower_tail_shape(0.7, 100.0, 500.0, 0.05, t0(0.7, 500.0)) == pytest.approx(1.0, abs=0.03)


# -- wear and sensor RUL ------------------------------------------------------------------------
def test_wear_trend_forecasts_carry_a_wear_out_tail():
    from prognos.analytics.wear import WearTrendModel

    t = np.arange(50.0)
    wear = 0.02 * t + np.random.default_rng(0).normal(0, 0.01, len(t))
    m = WearTrendModel(threshold=3.0, random_state=0).fit(t[:, None], wear)
    assert m.forecast("chain", NOW).lower_tail_shape == 2.0
    assert m.set_params(lower_tail_shape=1.0).forecast("chain", NOW).lower_tail_shape == 1.0


def test_sensor_rul_forecasts_carry_a_wear_out_tail():
    import pandas as pd

    from prognos.analytics.rul import RulEstimator, SensorRulModel

    rng = np.random.default_rng(0)
    frames = []
    for u in range(8):
        life = int(rng.integers(80, 120))
        t = np.arange(1, life + 1)
        wear = np.exp(3.0 * t / life) + rng.normal(0, 0.5, life)
        frames.append(pd.DataFrame({"unit": u, "cycle": t, "wear": wear}))
    est = RulEstimator(n_estimators=20, n_folds=2)
    m = SensorRulModel(settings=(), estimator=est, random_state=0).fit(pd.concat(frames))
    one = frames[0].iloc[:50].drop(columns=["unit"])
    assert m.forecast(one, "engine-1", as_of=NOW).lower_tail_shape == 2.0
