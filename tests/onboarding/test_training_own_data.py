"""Models that fit the data a user has: assets that lack a channel, a type with no failures
yet (health only), history scored after the fact, the minimum of labelled lives."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from prognos.config import Settings
from prognos.domain import Asset, AssetType, Channel, Customer, ReadingBatch, Site
from prognos.domain.keys import MANUFACTURER
from prognos.service.platform import open_platform

T0 = datetime(2024, 1, 1, tzinfo=UTC)
PUMP = AssetType(
    id="pump",
    time_unit="hours",
    channels=[Channel(name=n) for n in ("temp", "vibration", "pressure", "extra")],
)
SMALL = {"n_estimators": 20, "n_folds": 2, "num_leaves": 7}


def build(db: str, tmp_path, lives: int, fail: bool = True) -> None:
    """``lives`` pumps degrading to failure over 120-200 hours; the last lacks ``pressure``,
    one reports ``extra``; with ``fail`` each has a labelled failure at its last hour."""
    p = open_platform(Settings(db=db, artifacts_dir=tmp_path / "artifacts"))
    rng = np.random.default_rng(1)
    try:
        p.registry.add_asset_type(MANUFACTURER, PUMP)
        p.registry.add_customer(MANUFACTURER, Customer(id="c", name="C"))
        p.registry.add_site(MANUFACTURER, Site(id="s", customer_id="c", name="S"))
        ids = [f"p{i}" for i in range(lives)]
        p.registry.add_assets(
            MANUFACTURER,
            [
                Asset(id=a, customer_id="c", site_id="s", type_id="pump", installed_at=T0)
                for a in ids
            ],
        )
        events = []
        for i, a in enumerate(ids):
            n = int(rng.integers(120, 200))
            wear = np.linspace(0, 1, n) ** 2
            chans = {"temp": 60 + 25 * wear, "vibration": 2 + 6 * wear}
            if i != lives - 1:
                chans["pressure"] = 5 - 2 * wear
            if i == 0:
                chans["extra"] = np.ones(n)
            ts = np.array([np.datetime64(T0.replace(tzinfo=None), "us") + np.timedelta64(h, "h")
                           for h in range(n)])  # fmt: skip
            for ch, v in chans.items():
                v = v + rng.normal(0, 0.05 * (1 + abs(v.mean()) / 10), n)
                p.telemetry.ingest_batch(
                    MANUFACTURER,
                    ReadingBatch(np.array([a] * n, dtype=object), np.array([ch] * n, dtype=object), ts, v),
                )  # fmt: skip
            events.append({"asset_id": a, "kind": "failure", "at": T0 + timedelta(hours=n - 1)})
        if fail:
            p.events.record(MANUFACTURER, events)
    finally:
        p.close()


@pytest.fixture
def env(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("PROGNOS_RUL_PARAMS", json.dumps(SMALL))
    return str(tmp_path / "own.duckdb")


def test_training_uses_the_channels_most_assets_have_and_names_the_rest(cli, env, tmp_path):
    build(env, tmp_path, lives=8)
    code, out, err = cli("train", "--asset-type", "pump")
    assert code == 0, err
    assert "left out: channels ['extra'] (most assets lack them), assets ['p7']" in out
    assert "left out: channels ['extra']; lives p7 (lacks pressure)" in out
    assert "RUL model" in out and "on 7 run-to-failure histories" in out
    code, out, _ = cli("train", "--asset-type", "pump", "--json")
    rul = json.loads(out)["rul"]
    assert rul["sensors"] == ["pressure", "temp", "vibration"] and rul["min_lives"] == 5
    assert rul["left_out"] == {"channels": ["extra"], "lives": {"p7": "lacks pressure"}}
    code, out, _ = cli("forecast")
    assert code == 0 and "pump" in out and "rul" in out


def test_too_few_lives_names_the_minimum_and_the_way_on(cli, env, tmp_path):
    build(env, tmp_path, lives=3)
    code, out, _ = cli("train", "--asset-type", "pump")
    assert code == 0
    assert "has 3 labelled run-to-failure lives; a sensor RUL model needs at least 5" in out
    assert "prognos reliability fit" in out and "PROGNOS_MIN_LIVES" in out
    code, out, _ = cli("train", "--asset-type", "pump", "--min-lives", "2")
    assert code == 0 and "on 2 run-to-failure histories" in out  # p2 lacks pressure


def test_a_type_with_only_a_health_model_gets_health_scores(cli, env, tmp_path):
    build(env, tmp_path, lives=3, fail=False)
    code, out, _ = cli("train", "--asset-type", "pump")
    assert "has 0 labelled run-to-failure lives" in out
    assert "next: `prognos forecast` gives health scores (no failure model yet)" in out
    code, out, err = cli("forecast", "--json")
    assert code == 0, err
    (row,) = json.loads(out)["types"]
    # p2 lacks pressure, which the health model reads: it gets no score
    assert row["forecast_by"] is None and row["health_scores"] == 2 and row["forecasts"] == 0
    code, out, _ = cli("forecast")
    assert "pump: health scores only: no failure model yet" in out


def test_history_is_scored_at_past_moments_without_alarms(cli, env, tmp_path):
    build(env, tmp_path, lives=6)
    cli("train", "--asset-type", "pump")
    code, out, err = cli("forecast", "--history", "--points", "20", "--json")
    assert code == 0, err
    (row,) = json.loads(out)["types"]
    # five of the six pumps report every channel the models read (p5 lacks pressure)
    assert row["forecast_by"] == "rul" and row["forecasts"] == row["health_scores"] == 5 * 20
    p = open_platform(Settings(db=env))
    try:
        hist = p.forecasts.health_history(MANUFACTURER, "p0", limit=100)
        fc = p.forecasts.history(MANUFACTURER, "p0", limit=100)
        assert len(hist) == 20 and len(fc) == 20
        assert hist[-1].as_of == T0  # the first moment of its history
        assert fc[0].p50 < fc[-1].p50  # near the end of its life it said so
        assert hist[0].score < hist[-1].score  # and its health fell
        assert sum(p.alarms.counts(MANUFACTURER).values()) == 0  # news of the past: no alarm
    finally:
        p.close()
