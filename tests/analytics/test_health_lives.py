"""Health from lives (issue 11.3, 12): own baselines, two anomaly models chosen by validation,
coarse sensors and shift starts that are not anomalies, and a score consistent with the
failure forecast."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from prognos.analytics.anomaly import DETECTORS
from prognos.analytics.health_fit import fit_health
from prognos.analytics.health_rule import GOOD, WATCH, RuleParams, consistent
from prognos.domain import FailureForecast

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def turbofan(fd001):
    from prognos.analytics.cmapss import SENSORS

    lives = [g[list(SENSORS)].reset_index(drop=True) for _, g in fd001.train.groupby("unit")][:40]
    return fit_health(lives, [True] * len(lives)), lives


def test_both_anomaly_models_are_validated_and_the_better_is_kept(turbofan):
    model, _ = turbofan
    v = model.validation_
    assert set(DETECTORS) <= set(v) and v["held_out_failed"] >= 2
    aucs = {d: v[d]["auc"] for d in DETECTORS}
    assert v["chosen"] == model.detector == model.detector_.name
    assert aucs[v["chosen"]] >= max(aucs.values()) - 0.005
    assert aucs[v["chosen"]] > 0.9  # end-of-life windows stand out from healthy ones
    # channels that drift with wear are the failure forecast's to speak for
    assert "sensor_11" in model.explained_
    # C-MAPSS FD001's constant sensors carry nothing and are not scored
    assert {"sensor_1", "sensor_5", "sensor_10"} <= set(model.dropped_)


def test_each_life_is_scored_against_its_own_start(turbofan):
    model, lives = turbofan
    for life in lives[:10]:
        own = model.baseline(life.iloc[: model.baseline_rows])
        assert own.own
        early = model.health(life.iloc[60:80], "e", T0, own)
        late = model.health(life.iloc[-10:], "e", T0, own)
        assert early.score > 90 and late.score < 30
        assert early.extra["baseline"] == "own"


def _coarse(n: int, seed: int) -> pd.DataFrame:
    """A pressure read in steps of 0.01 that sits on one value, and a noisy temperature."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "pressure": np.round(5.0 + 0.002 * rng.normal(size=n), 2),
            "temp": 60 + rng.normal(size=n),
        }
    )


def test_a_sensor_that_moves_one_step_is_not_an_anomaly():
    lives = [_coarse(200, s) for s in range(6)]
    model = fit_health(lives, [False] * 6)
    recent = _coarse(20, 99)
    recent["pressure"] += 0.01  # one resolution step (0.2 %)
    h = model.health(recent, "p", T0, model.baseline(lives[0].iloc[:50]))
    assert "pressure" not in h.anomalies and h.score > 70


def _conveyor(n: int, seed: int, hot: float = 0.0) -> pd.DataFrame:
    """Load on shift (about 80 %) or idle (2 %), in blocks; the sprocket warms with load, and
    for a few readings after each shift start more (a transient)."""
    rng = np.random.default_rng(seed)
    on = (np.arange(n) // 8) % 2 == 1
    start = on & ~np.roll(on, 1)
    start |= np.roll(start, 1)  # the first two readings of a shift
    load = np.where(on, 80 + 3 * rng.normal(size=n), 2 + 0.5 * np.abs(rng.normal(size=n)))
    temp = 20 + 0.35 * load + 40.0 * start + hot + rng.normal(size=n)
    return pd.DataFrame({"load": load, "sprocket_temp": temp})


def test_shift_starts_and_load_are_operating_modes_not_anomalies():
    lives = [_conveyor(160, s) for s in range(6)]
    model = fit_health(lives, [False] * 6, settings=["load"])
    assert model.n_regimes >= 2
    own = model.baseline(lives[0].iloc[:50])
    unsettled = fit_health(lives, [False] * 6, settings=["load"], settle_rows=0)
    flagged = 0
    for end in range(17, 60, 3):  # windows ending at every phase of the shift pattern
        h = model.health(_conveyor(80, 7).iloc[end - 17 : end], "c", T0, own)
        assert not h.anomalies and h.score > 70, (end, h.anomalies, h.score)
        raw = unsettled.health(_conveyor(80, 7).iloc[end - 17 : end], "c", T0, own)
        flagged += bool(raw.anomalies)
    assert flagged  # without settling, shift starts would have been "anomalies"
    hot = model.health(_conveyor(80, 7, hot=15.0).iloc[40:60], "c", T0, own)
    assert "sprocket_temp" in hot.anomalies and hot.score < 40


def _forecast(p50_days: float) -> FailureForecast:
    q = {0.05: p50_days * 0.5, 0.5: p50_days, 0.95: p50_days * 1.6}
    return FailureForecast.from_quantiles("a", T0, q, time_unit="days", model="t")


def test_health_never_contradicts_the_failure_forecast(turbofan):
    model, lives = turbofan
    model.rule = RuleParams(horizon_days=14)
    own = model.baseline(lives[0].iloc[:50])
    worn = model.health(lives[0].iloc[-10:], "a", T0, own)
    fresh = model.health(lives[0].iloc[60:70], "a", T0, own)
    assert worn.score < 20 and fresh.score > 90
    # failure within 14 days negligible: wear the forecast reads is not critical, and the
    # channels it explains are not shown as anomalies
    calm = consistent(worn, _forecast(400.0))
    assert calm.score >= WATCH and calm.extra["p_fail"] <= 0.05
    assert not set(calm.anomalies) & set(model.explained_)
    assert "negligible" in calm.extra["band_rule"]
    # failure imminent: never good, whatever the readings say
    doomed = consistent(fresh, _forecast(3.0))
    assert doomed.score < WATCH and "imminent" in doomed.extra["band_rule"]
    between = consistent(fresh, _forecast(20.0))
    assert between.score < GOOD
    # idempotent: applying the rule again with the same forecast changes nothing
    assert consistent(doomed, _forecast(3.0)).score == doomed.score
    assert consistent(calm, _forecast(3.0)).score < WATCH  # and a newer forecast still counts


def test_lives_too_short_to_hold_out_still_fit():
    rng = np.random.default_rng(0)
    lives = [pd.DataFrame(rng.normal(size=(n, 2)), columns=["a", "b"]) for n in (200, 200, 20, 12)]
    model = fit_health(lives, [False] * 4)
    assert model.health(lives[0].iloc[-10:], "x", T0).score > 70
