"""Wear trends cross their thresholds when they should, inside the forecast's P10-P90."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from prognos.analytics.wear import WearTrendModel
from prognos.errors import ModelError

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_chain_elongation_reaches_three_percent_at_the_known_time():
    rng = np.random.default_rng(0)
    t = np.arange(0, 1500, 25.0)  # hours, one inspection a day-ish
    elong = 0.2 + 0.0014 * t + rng.normal(0, 0.05, len(t))  # % elongation
    true_left = (3.0 - 0.2) / 0.0014 - t[-1]
    m = WearTrendModel(threshold=3.0, random_state=0).fit(t[:, None], elong)
    fc = m.forecast("chain-1", NOW, time_unit="hours", component="chain")
    assert fc.quantile(0.05) <= true_left <= fc.quantile(0.95)
    assert fc.p50 == pytest.approx(true_left, rel=0.1)
    assert fc.p90 - fc.p10 < 0.5 * true_left  # informative, not just wide
    assert fc.component == "chain" and fc.extra["p_beyond_horizon"] == 0


def test_p10_p90_holds_the_true_crossing_eight_times_in_ten():
    hits = []
    for seed in range(100):
        rng = np.random.default_rng(seed)
        t = np.arange(0, 1500, 25.0)
        elong = 0.2 + 0.0014 * t + rng.normal(0, 0.05, len(t))
        m = WearTrendModel(threshold=3.0, n_samples=1000, random_state=seed).fit(t[:, None], elong)
        p10, p90 = np.quantile(m.crossing_time_samples(), [0.1, 0.9])
        hits.append(p10 <= (3.0 - 0.2) / 0.0014 - t[-1] <= p90)
    assert 0.7 <= np.mean(hits) <= 0.9


def test_brake_pad_thinning_to_its_minimum():
    rng = np.random.default_rng(1)
    t = np.linspace(0, 200, 30)  # days
    pad = 12.0 - 0.03 * t + rng.normal(0, 0.1, len(t))  # mm
    m = WearTrendModel(threshold=3.0, random_state=1).fit(t[:, None], pad)
    fc = m.forecast("pad-1", NOW, time_unit="days")
    true_left = (12.0 - 3.0) / 0.03 - 200
    assert fc.quantile(0.05) <= true_left <= fc.quantile(0.95)
    # later as-of point: less time left
    assert m.forecast("pad-1", NOW, t_now=250.0).p50 == pytest.approx(fc.p50 - 50, abs=3)


def test_power_law_wear_picks_its_exponent():
    rng = np.random.default_rng(2)
    t = np.linspace(1, 100, 60)
    wear = 0.5 + 0.0005 * t**1.6 + rng.normal(0, 0.02, len(t))
    m = WearTrendModel(threshold=3.0, form="power", random_state=2).fit(t[:, None], wear)
    assert m.power_ == pytest.approx(1.6, abs=0.15)
    true_left = ((3.0 - 0.5) / 0.0005) ** (1 / 1.6) - 100
    fc = m.forecast("x", NOW)
    assert fc.p10 <= true_left <= fc.p90
    linear = WearTrendModel(threshold=3.0, random_state=2).fit(t[:, None], wear).forecast("x", NOW)
    assert linear.p50 > fc.p50 + 10  # a straight line misses the acceleration


def test_flat_wear_never_crosses_within_the_horizon():
    rng = np.random.default_rng(3)
    t = np.arange(50.0)
    m = WearTrendModel(threshold=3.0, random_state=3).fit(t[:, None], 1 + rng.normal(0, 0.01, 50))
    fc = m.forecast("y", NOW)
    assert fc.extra["p_beyond_horizon"] > 0.5
    assert fc.p90 == pytest.approx(fc.extra["horizon"])


def test_needs_a_threshold_and_time_alone():
    t = np.arange(10.0)[:, None]
    with pytest.raises(ModelError):
        WearTrendModel().fit(t, t[:, 0]).forecast("z", NOW)
    with pytest.raises(ModelError):
        WearTrendModel(threshold=1).fit(np.hstack([t, t]), t[:, 0]).forecast("z", NOW)
    with pytest.raises(ValueError):
        WearTrendModel(threshold=1, form="power").fit(-t, t[:, 0])
