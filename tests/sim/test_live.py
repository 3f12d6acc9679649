"""The live fleet: declared ranges, determinism, wear that ends where the model says it does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from prognos.analytics.cmapss import load_subset
from prognos.demo.turbofans import turbofan_type
from prognos.sim.live import (
    ASSET_TYPES,
    CHAIN_DRIVE,
    ELEVATOR,
    TURBOFAN,
    LiveAsset,
    LiveFleet,
    load_turbofan_pool,
)
from prognos.sim.world import CHAIN_LIMIT

T0 = datetime(2026, 1, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def pool():
    return load_turbofan_pool(("FD003",))


def _fleet(pool, seed=0, sample_minutes=60.0):
    assets = [LiveAsset(f"el{i}", "lift", ELEVATOR, T0, timezone="Asia/Shanghai") for i in range(4)]
    assets += [
        LiveAsset(f"ch{i}", "plant", CHAIN_DRIVE, T0, timezone="Europe/Berlin") for i in range(4)
    ]
    assets += [
        # lives no FD003 unit has: an engine's continuation is cut to its life, not a unit's
        LiveAsset(f"tf{i}", "air", TURBOFAN, T0 - timedelta(days=90), last_ts=T0, life=life)
        for i, life in enumerate((208.0, 210.0, 211.0))
    ]
    return LiveFleet(assets, seed, sample_minutes=sample_minutes, turbofan_pool=pool)


def _frame(batch) -> pd.DataFrame:
    return pd.DataFrame(
        {"asset": batch.asset_id, "channel": batch.channel, "ts": batch.ts, "value": batch.value}
    )


def test_readings_lie_within_the_declared_ranges(pool):
    fleet = _fleet(pool, sample_minutes=120.0)
    df = _frame(fleet.advance(T0 + timedelta(days=600)))
    fd001 = load_subset("FD001")
    types = {**ASSET_TYPES, TURBOFAN: turbofan_type([fd001.train, fd001.test], None)}
    kinds = {a.asset_id: a.type_id for a in fleet.assets}
    assert set(df["asset"]) == set(kinds)
    for (asset, channel), g in df.groupby(["asset", "channel"]):
        ch = types[kinds[asset]].channel(channel)
        assert ch is not None, (asset, channel)
        assert g["value"].min() >= ch.min and g["value"].max() <= ch.max, (asset, channel)
    assert np.isfinite(df["value"]).all()
    # elevators count life in hours, chains in days, turbofans in cycles
    assert ASSET_TYPES[ELEVATOR].time_unit == "hours"
    assert ASSET_TYPES[CHAIN_DRIVE].time_unit == "days"
    assert types[TURBOFAN].time_unit == "cycles"


def test_the_same_seed_gives_the_same_readings_however_time_is_cut(pool):
    one = _fleet(pool, seed=3).advance(T0 + timedelta(days=20))
    fleet = _fleet(pool, seed=3)
    parts = [fleet.advance(T0 + timedelta(days=d, hours=7)) for d in range(0, 20, 3)]
    parts.append(fleet.advance(T0 + timedelta(days=20)))
    a, b = _frame(one), _frame(_concat(parts))
    key = ["asset", "channel", "ts"]
    pd.testing.assert_frame_equal(
        a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
    )
    other = _frame(_fleet(pool, seed=4).advance(T0 + timedelta(days=20)))
    assert not np.allclose(a.sort_values(key)["value"], other.sort_values(key)["value"])


def _concat(parts):
    from prognos.domain import ReadingBatch

    return ReadingBatch.concat(parts)


def test_chains_reach_three_percent_when_their_life_ends(pool):
    assets = [LiveAsset(f"ch{i}", "p", CHAIN_DRIVE, T0) for i in range(24)]
    fleet = LiveFleet(assets, seed=1, sample_minutes=360.0)
    df = _frame(fleet.advance(T0 + timedelta(days=2000)))
    failures = {f.asset_id: f for f in fleet.pop_failures()}
    assert set(failures) == {a.asset_id for a in assets}  # every chain wore out
    lives = []
    for a in assets:
        life = fleet.life(a.asset_id)
        f = failures[a.asset_id]
        assert f.age == pytest.approx(life)
        assert f.at == T0 + timedelta(days=life)
        e = df[(df["asset"] == a.asset_id) & (df["channel"] == "elongation")]
        age = (e["ts"] - np.datetime64(T0.replace(tzinfo=None))) / np.timedelta64(1, "D")
        smooth = e["value"].rolling(8, center=True, min_periods=1).mean().to_numpy()
        assert age.max() < life  # nothing reported from a broken chain
        # the measured elongation crosses 3 % close to the end of life (noise: 0.03 %)
        near = smooth >= CHAIN_LIMIT - 0.1
        assert near.any(), a.asset_id
        first = age.to_numpy()[np.argmax(near)]
        assert life - max(5.0, 0.06 * life) <= first <= life, a.asset_id
        assert e["value"].iloc[-4:].mean() == pytest.approx(CHAIN_LIMIT, abs=0.08)
        lives.append(life)
    # world.chain_path: a median life near 330 days (rate drawn around 3 % / 330 days)
    assert 200 < np.median(lives) < 420


def test_elevator_vibration_rises_to_the_bearing_limit(pool):
    fleet = LiveFleet([LiveAsset("el", "c", ELEVATOR, T0)], seed=2, sample_minutes=60.0)
    df = _frame(fleet.advance(T0 + timedelta(days=1500)))
    vib = df[df["channel"] == "vibration"]["value"].to_numpy()
    assert vib[:200].mean() < 4.0 and vib[-48:].mean() > 10.0
    (f,) = fleet.pop_failures()
    assert f.age == pytest.approx(fleet.life("el")) and f.type_id == ELEVATOR


def _rows(df, aid):
    from prognos.sim.live import CMAPSS_CHANNELS

    g = df[df["asset"] == aid].pivot_table(index="ts", columns="channel", values="value")
    return g[list(CMAPSS_CHANNELS)].to_numpy()


def test_turbofans_fail_at_their_true_life_with_a_train_unit_from_the_same_life_left(pool):
    """An engine with a known true life goes on with the rows of a run-to-failure unit from the
    same life left on: its sensors show the wear its life says (not the state of a unit taken up
    at the engine's age), and it fails exactly when its life ends."""
    fleet = _fleet(pool)
    start = {a.asset_id: a for a in fleet.assets if a.type_id == TURBOFAN}
    df = _frame(fleet.advance(T0 + timedelta(days=400)))
    for aid in start:
        g = df[(df["asset"] == aid) & (df["channel"] == "sensor_11")]
        ts = pd.DatetimeIndex(g["ts"])
        assert ts[0] == pd.Timestamp(T0.replace(tzinfo=None)) + pd.Timedelta(days=1)
        assert (np.diff(ts.asi8) == 86_400_000_000).all()  # one cycle a simulated day
        assert fleet.life(aid) == start[aid].life  # age 90 at the start, failing at its life
        rows = _rows(df, aid)
        assert len(rows) == start[aid].life - 90
        left = len(rows)
        ends = [u for u in pool if len(u) > left and np.allclose(u[-left:], rows)]
        assert ends, f"{aid}: its readings are no unit's last {left} cycles"
    assert set(start) <= {f.asset_id for f in fleet.pop_failures()}


def test_a_replaced_engine_starts_a_unit_from_its_first_cycle(pool):
    """A new engine is a new unit from cycle 1, its life that unit's, not the first part's."""
    fleet = _fleet(pool)
    fleet.advance(T0 + timedelta(days=50))
    first = {f"tf{i}": fleet.life(f"tf{i}") for i in range(3)}
    for aid in first:
        fleet.replace(aid, T0 + timedelta(days=50))
    df = _frame(fleet.advance(T0 + timedelta(days=50 + 600)))  # longer than any unit
    for aid in first:
        rows = _rows(df, aid)
        assert len(rows) == fleet.life(aid)
        assert any(len(u) == len(rows) and np.allclose(u, rows) for u in pool)
    # drawn from the whole pool, not the unit nearest the first part's life (within a cycle)
    assert any(abs(fleet.life(a) - first[a]) > 20 for a in first)


def test_a_replaced_part_starts_a_new_life(pool):
    fleet = LiveFleet([LiveAsset("ch", "p", CHAIN_DRIVE, T0)], seed=0, sample_minutes=60.0)
    fleet.advance(T0 + timedelta(days=100))
    before = fleet.life("ch")
    fleet.replace("ch", T0 + timedelta(days=100))
    assert fleet.installed("ch") == T0 + timedelta(days=100)
    assert fleet.life("ch") != before
    e = _frame(fleet.advance(T0 + timedelta(days=101)))
    e = e[e["channel"] == "elongation"]["value"]
    assert len(e) == 24 and e.mean() < 0.3  # a new chain


def test_an_engine_continues_at_the_level_its_own_readings_left_off(pool):
    """C-MAPSS units differ in level (core speeds by tens of rpm): an engine's continuation is
    its unit's course shifted to join the mean of the engine's last cycles, not a jump to the
    unit's level (which read as an anomaly), and the operating settings stay the flight's."""
    level = pool[0][-30:-20].mean(0) + 0.5  # the engine's own last cycles
    a = LiveAsset(
        "tf", "air", TURBOFAN, T0 - timedelta(days=90), last_ts=T0, life=208.0, level=tuple(level)
    )
    rows = _rows(
        _frame(LiveFleet([a], 0, turbofan_pool=pool).advance(T0 + timedelta(days=400))), "tf"
    )
    n = len(rows)
    steps = np.diff(rows, axis=0)
    [u] = [u for u in pool if len(u) > n and np.allclose(np.diff(u[-n:], axis=0), steps)][:1]
    j = len(u) - n  # where the engine took the unit up
    shift = rows[0] - u[j]
    np.testing.assert_allclose(u[j - 10 : j].mean(0)[3:] + shift[3:], level[3:])
    np.testing.assert_allclose(rows[:, :3], u[j:, :3])
