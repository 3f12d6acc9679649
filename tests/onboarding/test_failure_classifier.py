"""A tabular fleet with labelled failures: `prognos train` fits a P(failure within H) classifier,
validated over assets, kept because it beats the health score; it serves the forecast of a type
without a sensor RUL model and so feeds the probability alarm rule; `backtest` reports it.

The fleet is made here with a known mechanism (as in the AI4I milling set's overstrain
failures): a tool wears at a rate of its own each life and breaks once wear times torque passes
a limit. Health (distance from a healthy baseline) sees the wear but not the rate or the load, so
it ranks imminent failures worse than a model that learns the mechanism.
"""

from __future__ import annotations

import json
from contextlib import closing

import numpy as np
import pandas as pd
import pytest

from prognos.config import Settings
from prognos.domain.keys import MANUFACTURER
from prognos.service.platform import open_platform

CHANNELS = ("torque_nm", "speed_rpm", "air_temp_k", "tool_wear_min")


def presses(folder, machines: int = 10, cycles: int = 300, seed: int = 7) -> int:
    """Readings (one CSV row per machine and cycle) and failures (an events CSV)."""
    rng = np.random.default_rng(seed)
    rows, ends = [], []
    for m in range(machines):
        wear, rate = 0.0, rng.uniform(1.0, 5.0)
        for c in range(1, cycles + 1):
            torque = rng.normal(40, 8)
            wear += rate * rng.uniform(0.5, 1.5)
            rows.append((f"press-{m:02d}", c, torque, rng.normal(1500, 120), rng.normal(300, 2),
                         wear))  # fmt: skip
            if wear * torque > 9000 and rng.random() < 0.3:  # overstrain: the tool breaks
                ends.append((f"press-{m:02d}", c, "failure"))
                wear, rate = 0.0, rng.uniform(1.0, 5.0)  # a new tool
    pd.DataFrame(rows, columns=["machine", "cycle", *CHANNELS]).to_csv(
        folder / "presses.csv", index=False
    )
    pd.DataFrame(ends, columns=["machine", "cycle", "kind"]).to_csv(
        folder / "failures.csv", index=False
    )
    registry = {
        "customers": [{"id": "c", "name": "C"}],
        "sites": [{"id": "s", "customer_id": "c", "name": "S"}],
        "asset_types": [{"id": "press", "time_unit": "cycles",
                         "channels": [{"name": c} for c in CHANNELS]}],
        "assets": [{"id": f"press-{m:02d}", "customer_id": "c", "site_id": "s",
                    "type_id": "press", "installed_at": "2020-01-01T00:00:00Z"}
                   for m in range(machines)],
    }  # fmt: skip
    (folder / "registry.json").write_text(json.dumps(registry))
    return len(ends)


@pytest.fixture
def fleet(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("PROGNOS_RUL_PARAMS", json.dumps({"n_estimators": 20, "n_folds": 2}))
    failures = presses(tmp_path)
    assert cli("registry", "load", tmp_path / "registry.json")[0] == 0
    code, _, err = cli("ingest", "file", tmp_path / "presses.csv", "--asset-column", "machine",
                       "--cycle-column", "cycle")  # fmt: skip
    assert code == 0, err
    code, out, err = cli("events", "load", tmp_path / "failures.csv", "--asset-column",
                         "machine", "--cycle-column", "cycle")  # fmt: skip
    assert code == 0 and f"stored {failures} events" in out, err
    return failures


@pytest.mark.slow
def test_the_classifier_beats_the_health_score_and_feeds_the_probability_rule(cli, fleet):
    # too few lives for a sensor RUL model (as a user says with --min-lives): the classifier
    # is what forecasts failures
    code, out, err = cli("train", "--asset-type", "press", "--min-lives", "500", "--json")
    assert code == 0, err
    card = json.loads(out)["classifier"]
    assert "skipped" not in card, card
    assert card["horizon"] == 30.0 and card["folds_over"] == "assets"
    assert card["auc"] >= 0.85, card
    assert card["auc"] > card["baselines"]["health"] + 0.03, card
    assert card["auc"] > card["baselines"]["age"], card
    assert card["brier"] < card["brier_prevalence"], card  # better than the base rate

    with closing(open_platform(Settings())) as p:
        p.alarms.put_rules(
            MANUFACTURER,
            "press",
            {"rules": [{"kind": "probability", "horizon_days": 30, "p": 0.5}]},
        )
    code, out, err = cli("forecast", "--json")
    assert code == 0, err
    done = json.loads(out)["types"][0]
    assert done["forecast_by"] == "classifier" and done["forecasts"] == 10
    with closing(open_platform(Settings())) as p:
        for i in range(10):
            f = p.forecasts.latest(MANUFACTURER, f"press-{i:02d}")
            prob = f.extra["p_fail_within"]
            # a cycle is a day for the rule: P(failure within 30 d) is the classifier's
            assert abs(float(f.prob_fail_before(30.0)) - prob) < 1e-6
            alarms = [a for a in p.alarms.of_asset(MANUFACTURER, f.asset_id, 20)
                      if a.rule == "probability"]  # fmt: skip
            assert bool(alarms) == (prob >= 0.5), (f.asset_id, prob)

    code, out, err = cli("backtest", "--asset-type", "press", "--folds", "3",
                         "--health-points", "5")  # fmt: skip
    assert code == 0, err
    assert "P(failure within 30 cycles) classifier: out-of-fold AUC" in out


def test_a_classifier_that_does_not_beat_the_baselines_is_not_kept(cli, tmp_path, monkeypatch):
    """Failures at random, unrelated to any reading: nothing to learn, nothing stored."""
    monkeypatch.setenv("PROGNOS_FAILURE_FOLDS", "3")
    presses(tmp_path, machines=6, cycles=150)
    rng = np.random.default_rng(1)
    noise = pd.DataFrame({"machine": [f"press-{m:02d}" for m in range(6) for _ in range(3)],
                          "cycle": rng.integers(20, 150, 18), "kind": "failure"})  # fmt: skip
    noise.drop_duplicates().to_csv(tmp_path / "failures.csv", index=False)
    assert cli("registry", "load", tmp_path / "registry.json")[0] == 0
    assert cli("ingest", "file", tmp_path / "presses.csv", "--asset-column", "machine",
               "--cycle-column", "cycle")[0] == 0  # fmt: skip
    assert cli("events", "load", tmp_path / "failures.csv", "--asset-column", "machine",
               "--cycle-column", "cycle")[0] == 0  # fmt: skip
    code, out, err = cli("train", "--asset-type", "press", "--min-lives", "500", "--json")
    assert code == 0, err
    card = json.loads(out)["classifier"]
    assert "does not beat" in card["skipped"], card
    with closing(open_platform(Settings())) as p:
        assert p.forecasts.model_for("press:classifier") is None
