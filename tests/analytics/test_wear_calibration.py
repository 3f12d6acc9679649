"""Wear-trend forecasts are calibrated on simulated series with a known crossing time, also when
neighbouring readings err alike, without paying for it in width when they do not."""

from __future__ import annotations

import numpy as np
import pytest
from wear_calibration import THRESHOLD, calibration, simulate

from prognos.analytics.wear import WearTrendModel


class _IndependentReadings(WearTrendModel):
    """The model before the drift correction: every reading counts as independent."""

    @staticmethod
    def _noise_inflation(resid: np.ndarray) -> float:
        return 1.0


@pytest.mark.parametrize("form", ["power", "linear"])
def test_p10_p90_holds_the_truth_eight_times_in_ten_when_the_noise_drifts(form):
    res = calibration(form, n=150, seed=0, noise="drift", n_samples=1000)
    assert 0.72 <= res["cover_80"] <= 0.88  # binomial SD at 150 series: 0.033
    assert 0.84 <= res["cover_90"] <= 0.96


@pytest.mark.parametrize("form", ["power", "linear"])
def test_independent_readings_stay_calibrated(form):
    res = calibration(form, n=150, seed=1, noise="white", n_samples=1000)
    assert 0.72 <= res["cover_80"] <= 0.88
    assert 0.84 <= res["cover_90"] <= 0.96


def test_the_correction_costs_little_width_on_independent_readings():
    ratios = []
    rng = np.random.default_rng(2)
    for i in range(60):
        s = simulate("power", rng, noise="white")
        widths = []
        for cls in (WearTrendModel, _IndependentReadings):
            m = cls(threshold=THRESHOLD, form="power", n_samples=1000, random_state=i)
            q10, q90 = np.quantile(m.fit(s.t[:, None], s.wear).crossing_time_samples(), [0.1, 0.9])
            widths.append(q90 - q10)
        ratios.append(widths[0] / widths[1])
    assert np.median(ratios) < 1.1 and np.quantile(ratios, 0.9) < 1.6


def test_drifting_noise_counts_for_fewer_readings():
    rng = np.random.default_rng(3)
    t = np.arange(300.0)
    drift = np.zeros(300)
    for i in range(1, 300):  # AR(1), correlation time 20 readings
        drift[i] = 0.95 * drift[i - 1] + np.sqrt(1 - 0.95**2) * rng.normal()
    trend = 0.2 + 0.005 * t
    white = WearTrendModel(threshold=3.0).fit(t[:, None], trend + rng.normal(0, 0.05, 300))
    drifting = WearTrendModel(threshold=3.0).fit(t[:, None], trend + 0.05 * drift)
    assert white.noise_inflation_ < 1.5
    assert drifting.noise_inflation_ > 8 and drifting.n_eff_ < 40  # true ratio (1+.95)/(1-.95)=39
    fc_white, fc_drift = white.forecast("a"), drifting.forecast("a")
    assert fc_drift.p90 - fc_drift.p10 > 2 * (fc_white.p90 - fc_white.p10)
