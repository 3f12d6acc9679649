"""Weibull fits recover known parameters under censoring and truncation; forecasts are conditional."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from prognos.analytics.azure_pdm import COMPONENTS, component_lives, weibull_by_component
from prognos.analytics.reliability import WeibullModel, fit_report, kaplan_meier
from prognos.domain.forecast import FailureForecast
from prognos.errors import ModelError

SHAPE, SCALE = 2.0, 100.0


def lifetimes(n: int, seed: int, shape: float = SHAPE, scale: float = SCALE) -> np.ndarray:
    return scale * np.random.default_rng(seed).weibull(shape, n)


def test_recovers_shape_and_scale_from_complete_lives():
    m = WeibullModel().fit(None, lifetimes(3000, 0))
    assert m.shape_ == pytest.approx(SHAPE, rel=0.05)
    assert m.scale_ == pytest.approx(SCALE, rel=0.03)
    assert m.n_events_ == 3000 and m.n_censored_ == 0 and m.converged_


def test_right_censoring_is_handled_and_ignoring_it_is_biased():
    life = lifetimes(3000, 1)
    stop = np.random.default_rng(2).uniform(0, 200, len(life))  # removed while still working
    t, event = np.minimum(life, stop), (life <= stop).astype(int)
    assert 0.3 < 1 - event.mean() < 0.6
    m = WeibullModel().fit(None, t, event=event)
    assert m.shape_ == pytest.approx(SHAPE, rel=0.08)
    assert m.scale_ == pytest.approx(SCALE, rel=0.05)
    naive = WeibullModel().fit(None, t)  # calls every removal a failure
    assert naive.scale_ < 0.85 * SCALE


def test_left_truncation_is_handled():
    rng = np.random.default_rng(3)
    life = lifetimes(6000, 4)
    entry = rng.uniform(0, 80, len(life))
    seen = life > entry  # parts that failed before we started watching never show up
    m = WeibullModel().fit(None, life[seen], entry=entry[seen])
    assert m.shape_ == pytest.approx(SHAPE, rel=0.08)
    assert m.scale_ == pytest.approx(SCALE, rel=0.05)
    assert WeibullModel().fit(None, life[seen]).scale_ > 1.05 * SCALE


def test_covariates_scale_life_as_in_an_aft_model():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3000, 2))
    scale = np.exp(4.0 + 0.5 * x[:, 0] - 0.2 * x[:, 1])
    t = scale * rng.weibull(1.5, len(scale))
    m = WeibullModel().fit(x, t)
    assert m.coef_ == pytest.approx([0.5, -0.2], abs=0.05)
    assert m.intercept_ == pytest.approx(4.0, abs=0.06)
    assert m.shape_ == pytest.approx(1.5, rel=0.06)


def test_conditional_forecast_follows_the_survival_ratio():
    m = WeibullModel().fit(None, lifetimes(2000, 6))
    age = 80.0
    fc = m.forecast("bearing-1", datetime(2026, 1, 1, tzinfo=UTC), age=age, time_unit="days")
    assert isinstance(fc, FailureForecast) and fc.time_unit == "days"
    for level, rem in zip(fc.levels, fc.values, strict=True):
        s = m.survival([age + rem, age])[0]
        assert 1 - s[0] / s[1] == pytest.approx(level, abs=1e-9)
    # an older part of an ageing population has less left
    assert m.forecast("b", age=150.0).p50 < fc.p50 < m.forecast("b", age=0.0).p50


def test_kaplan_meier_and_fit_report():
    t = lifetimes(1500, 7)
    times, km = kaplan_meier(t, np.ones(len(t)))
    assert km[-1] == 0 and np.all(np.diff(km) <= 0) and len(times) == len(np.unique(t))
    rep = fit_report(t, np.ones(len(t)))
    assert rep["aic_weibull"] < rep["aic_exponential"] - 100
    assert rep["km_max_abs_dev"] < 0.05
    flat = fit_report(lifetimes(1500, 8, shape=1.0), np.ones(1500))
    assert flat["shape"] == pytest.approx(1.0, rel=0.06)


def test_refuses_lives_without_failures():
    with pytest.raises(ModelError):
        WeibullModel().fit(None, [10.0, 20.0], event=[0, 0])


def test_azure_pdm_lives_and_fits():
    lives = component_lives()
    assert set(lives["comp"]) == set(COMPONENTS)
    assert lives["event"].sum() == 761  # every failure record ends a life
    assert (lives["days"] > 0).all() and lives["start"].min().year == 2014
    rep = weibull_by_component()
    for comp in COMPONENTS:
        r = rep["components"][comp]
        assert r["n_events"] + r["n_censored"] == r["n_lives"]
        assert 1.0 < r["shape"] < 4.0 and 50 < r["mean_life"] < 500
        assert r["weibull_better_by_aic"]
    # the covariate path on real data: older machines wear comp4 out faster
    assert rep["components"]["comp4"]["life_ratio_per_machine_year"] < 0.95
    assert rep["components"]["comp4"]["aic_weibull_age"] < rep["components"]["comp4"]["aic_weibull"]
