"""Fleet scoring cuts each asset's health baseline as one asset at a time does (issue 11,
item 3): the first readings and the first day of its life, partial or thinned alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from prognos.domain.keys import MANUFACTURER
from prognos.service.fleet_scoring import TypeModels, prepare_chunk, score_inputs

START = datetime(2025, 1, 2, tzinfo=UTC)
REPLACED = START + timedelta(hours=130)


class _NoRul:
    """Pumps have no RUL model: only health is compared here."""

    def predict_quantiles_last(self, life: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame()


def _readings(p, asset_id: str, start: datetime, n: int, step: timedelta) -> None:
    rng = np.random.default_rng(sum(map(ord, asset_id)))
    ts = [start + step * i for i in range(n)]
    hour = np.array([t.hour for t in ts])
    temp = 60 + 3 * np.sin(2 * np.pi * hour / 24) + rng.normal(0, 0.5, n)  # warmer by day
    vib = 3.0 + rng.normal(0, 0.1, n)
    df = pd.DataFrame(
        {
            "asset_id": asset_id,
            "channel": np.repeat(["temp", "vibration"], n),
            "ts": ts + ts,
            "value": np.r_[temp, vib],
        }
    )
    df.insert(0, "record", range(len(df)))
    df["cycle"] = None
    out = p.telemetry.ingest_long(
        MANUFACTURER, df[["record", "asset_id", "channel", "ts", "cycle", "value"]], "test"
    )
    assert not out.rejected, out.rejected[:2]


def test_fleet_scoring_cuts_each_baseline_as_one_asset_at_a_time(seeded):
    p = seeded
    ids = ["acme-p1", "acme-p2", "globex-p1"]
    for aid in ids:
        _readings(p, aid, START, 120, timedelta(hours=1))
    p.training.train_health(MANUFACTURER, "pump")
    # two parts replaced: one reports every 5 minutes for 12 hours (its baseline partial), one
    # every 30 seconds for 30 hours (3,600 readings in its first day: thinned, complete)
    for aid in ("acme-p1", "globex-p1"):
        p.registry.restart_life(MANUFACTURER, p.store.get_asset(aid), REPLACED)
    _readings(p, "acme-p1", REPLACED, 144, timedelta(minutes=5))
    _readings(p, "globex-p1", REPLACED, 3600, timedelta(seconds=30))
    t = p.registry.asset_type(MANUFACTURER, "pump")
    model = p.forecasts.model_for("pump:health")[1]
    assets = [p.store.get_asset(a) for a in ids]
    models = TypeModels({}, _NoRul(), model)
    fleet = score_inputs(prepare_chunk(p.store, assets, t, models), assets, t, models).health
    labels = {h.asset_id: h.extra["baseline"] for h in fleet}
    assert labels == {
        "acme-p1": "own (partial, widened)",
        "acme-p2": "own",
        "globex-p1": "own",
    }
    for h in fleet:
        one = p.forecasts.health(p.store.get_asset(h.asset_id), t)
        assert (one.score, one.drivers, one.anomalies, one.extra) == (
            h.score,
            h.drivers,
            h.anomalies,
            h.extra,
        ), h.asset_id
