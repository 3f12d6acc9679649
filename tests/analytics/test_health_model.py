"""Health scores: 100 for healthy windows, low with the right drivers and flags when a channel drifts."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from prognos.analytics.health import HealthModel
from prognos.errors import ModelError


def healthy(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, 1))
    idx = pd.date_range("2026-01-01", periods=n, freq="h", tz="UTC")
    return pd.DataFrame(
        {
            "vibration": 2.0 + 0.3 * base[:, 0] + 0.1 * rng.normal(size=n),
            "temperature": 60 + 2 * base[:, 0] + rng.normal(size=n),  # correlated with vibration
            "current": 12 + 0.5 * rng.normal(size=n),
        },
        index=idx,
    )


@pytest.fixture(scope="module")
def model() -> HealthModel:
    return HealthModel(window=10).fit(healthy(2000, 0))


def test_healthy_window_scores_full(model):
    recent = healthy(30, 1)
    hs = model.health(recent, "press-1")
    assert hs.score >= 95 and hs.anomalies == {}
    assert hs.as_of == recent.index[-1].to_pydatetime()


def test_drifting_channel_pulls_the_score_down_and_is_named(model):
    recent = healthy(30, 2)
    recent["current"] += np.linspace(0, 6, 30)  # +12 sigma by the end
    hs = model.health(recent, "press-1", as_of=datetime(2026, 2, 1, tzinfo=UTC))
    assert hs.score < 30
    assert next(iter(hs.drivers)) == "current" and hs.drivers["current"] > 0.8
    assert sum(hs.drivers.values()) == pytest.approx(1.0, abs=0.03)
    assert hs.anomalies["current"] > 4 and "vibration" not in hs.anomalies


def test_broken_correlation_is_caught_by_mahalanobis(model):
    recent = healthy(10, 3)
    recent["vibration"] = 2.0 + 0.6  # +2 sd of vibration ...
    recent["temperature"] = 60 - 4.0  # ... with -2 sd of temperature: never seen together
    hs = model.health(recent, "press-1")
    assert hs.score < 50 and hs.anomalies == {}  # no single channel is extreme


def test_regimes_from_settings_columns():
    rng = np.random.default_rng(4)
    n = 3000
    load = rng.choice([0.3, 0.9], n) + rng.normal(0, 0.005, n)
    temp = 40 + 40 * load + rng.normal(0, 1, n)  # a healthy machine runs hotter at high load
    m = HealthModel(settings=["load"]).fit(pd.DataFrame({"load": load, "temp": temp}))
    hot = pd.DataFrame({"load": [0.9] * 10, "temp": 40 + 36 + rng.normal(0, 1, 10)})
    assert m.health(hot, "m").score >= 95  # normal at high load
    cold_load = pd.DataFrame({"load": [0.3] * 10, "temp": 40 + 36 + rng.normal(0, 1, 10)})
    assert m.health(cold_load, "m").score < 10  # the same temperature at low load is not
    with pytest.raises(ModelError):
        m.fit(np.column_stack([load, temp]))


def test_outlier_detector_face(model):
    x = healthy(500, 5)
    assert np.mean(model.predict(x) == 1) > 0.97
    x.iloc[:10, 2] += 10
    assert np.all(model.predict(x.iloc[:10]) == -1)


def test_turbofans_lose_health_towards_failure(fd001):
    from prognos.analytics.cmapss import SENSORS

    train = fd001.train
    train = train[train["unit"] <= 20]
    sensors = [s for s in SENSORS if train[s].nunique() > 2]
    m = HealthModel(window=10).fit(train.loc[train["cycle"] <= 30, sensors])
    early = [m.health(g[sensors].iloc[30:40], "e").score for _, g in train.groupby("unit")]
    late = [m.health(g[sensors].iloc[-10:], "e").score for _, g in train.groupby("unit")]
    assert np.mean(early) > 90 and np.mean(late) < 30
    assert min(early) > max(late)


def test_many_assets_scored_in_one_pass_equal_each_scored_alone(model):
    """Fleet scoring calls ``health_many`` once per chunk; each asset's score must be what
    ``health`` gives it alone, drivers, flags and time included."""
    frames = [healthy(30, 10), healthy(4, 11), healthy(12, 12)]  # one shorter than the window
    frames[2]["current"] += np.linspace(0, 8, 12)
    ids = ["a", "b", "c"]
    stacked = pd.concat(frames)
    many = model.health_many(stacked, np.repeat(ids, [len(f) for f in frames]))
    alone = [model.health(f, aid) for f, aid in zip(frames, ids, strict=True)]
    assert [h.asset_id for h in many] == ids
    for m, a in zip(many, alone, strict=True):
        assert m.score == pytest.approx(a.score, rel=1e-12, abs=1e-12)
        assert m.as_of == a.as_of and m.anomalies == a.anomalies
        assert m.drivers.keys() == a.drivers.keys()
        assert list(m.drivers.values()) == pytest.approx(list(a.drivers.values()), abs=1e-12)
    assert many[2].score < 50 and "current" in many[2].anomalies
    with pytest.raises(ModelError, match="unit labels"):
        model.health_many(stacked, ["a"])


def test_the_score_is_the_documented_distance_of_the_window_mean(model):
    recent = healthy(30, 13)
    recent["vibration"] += np.linspace(0, 1.5, 30)
    z = (recent.to_numpy()[-10:] - model.center_[0]) / model.spread_[0]
    zbar = z.mean(axis=0)
    d = np.sqrt(zbar @ model.precision_ @ zbar)
    ref = model.window_reference_
    expected = 100 * min(1.0, np.exp(-(d - ref) / ref))
    assert model.health(recent, "p").score == pytest.approx(round(expected, 2), abs=1e-9)
    assert expected < 99  # the drift moved it
