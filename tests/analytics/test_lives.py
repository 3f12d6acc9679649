"""Many assets' readings pivoted at once give each asset the frame it would get on its own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prognos.analytics.lives import Histories

CHANNELS = ["setting", "a", "b", "c"]
START = pd.Timestamp("2026-01-01", tz="UTC")
DAY = 86_400.0


def readings(seed: int = 0) -> tuple[pd.DataFrame, list[pd.Timestamp]]:
    """Long readings of five assets with the awkward cases, in shuffled order."""
    rng = np.random.default_rng(seed)
    rows, starts = [], []
    for i, n in enumerate([40, 25, 30, 12, 0]):
        start = START + pd.Timedelta(days=i)
        starts.append(start)
        jitter = rng.integers(0, 10**6, n + 3)  # microseconds off the whole day
        ts = start + pd.to_timedelta(np.arange(-3, n) * DAY * 1e6 + jitter, "us")
        for c in CHANNELS:
            v = rng.normal(size=n + 3)
            keep = np.ones(n + 3, dtype=bool)
            if i == 1 and c == "c":
                keep[:] = False  # asset 1 never reports c
            if i == 2 and c == "b":
                keep[:8] = False  # asset 2 reports b from its 6th day of service on
            if i == 3:
                keep &= rng.random(n + 3) > 0.3  # asset 3 has gaps everywhere
            rows += [(i, c, t, x) for t, x, k in zip(ts, v, keep, strict=True) if k]
    df = pd.DataFrame(rows, columns=["asset", "channel", "ts", "value"])
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True), starts


def one_asset(df: pd.DataFrame, i: int, start: pd.Timestamp) -> pd.DataFrame:
    """What one asset's frame is: pivot its readings since ``start``, drop channels it never
    reported, carry forward, keep complete rows (``service.prognostics.life_frame``)."""
    mine = df[(df["asset"] == i) & (df["ts"] >= start)]
    wide = mine.pivot_table(index="ts", columns="channel", values="value", aggfunc="last")
    return wide.sort_index().dropna(axis=1, how="all").ffill().dropna()


def pivoted(df: pd.DataFrame, starts) -> Histories:
    return Histories.pivot(
        df["asset"].to_numpy(),
        df["channel"].map({c: j for j, c in enumerate(CHANNELS)}).to_numpy(),
        df["ts"].dt.tz_localize(None).to_numpy("datetime64[us]"),
        df["value"].to_numpy(),
        len(starts),
        CHANNELS,
        since=np.array([s.tz_localize(None).asm8 for s in starts]).astype("datetime64[us]"),
    )


def test_life_frames_of_many_assets_equal_each_assets_own():
    df, starts = readings()
    since = np.array([s.tz_localize(None).asm8 for s in starts]).astype("datetime64[us]")
    frame = pivoted(df, starts).life_frame(["e0", "e1", "e2", "e3", "e4"], since, DAY)
    assert list(frame.columns) == ["unit", "cycle", *CHANNELS]
    assert set(frame["unit"]) == {"e0", "e1", "e2", "e3"}  # e4 has no readings
    for i, start in enumerate(starts[:4]):
        ref = one_asset(df, i, start)
        got = frame[frame["unit"] == f"e{i}"]
        age = np.round((ref.index - start).total_seconds().to_numpy() / DAY, 6)
        np.testing.assert_array_equal(got["cycle"].to_numpy(), age)
        for c in CHANNELS:
            if c in ref.columns:
                np.testing.assert_array_equal(got[c].to_numpy(), ref[c].to_numpy(), err_msg=c)
            else:
                assert got[c].isna().all()  # a channel the asset never reported stays empty
    assert (frame["unit"] == "e2").sum() == len(one_asset(df, 2, starts[2])) < 30


def test_recent_rows_for_a_model_start_where_its_own_columns_are_complete():
    df, starts = readings(1)
    hist = pivoted(df, starts)
    recent, owner = hist.recent_frame(["setting", "a", "b"], 10)
    assert list(np.unique(owner)) == [0, 1, 2, 3]  # every asset with readings has a and b
    for i, start in enumerate(starts[:4]):
        mine = df[(df["asset"] == i) & (df["ts"] >= start)]
        wide = mine.pivot_table(index="ts", columns="channel", values="value", aggfunc="last")
        ref = wide.sort_index().reindex(columns=["setting", "a", "b"]).ffill().dropna().tail(10)
        np.testing.assert_array_equal(recent[owner == i].to_numpy(), ref.to_numpy())
    assert hist.last_times()[4] == -1
    # asset 1 never reports c: a model reading c cannot score it
    _, owner_c = hist.recent_frame(["a", "c"], 10)
    assert 1 not in owner_c and {0, 2, 3} <= set(owner_c)
    empty, none = hist.recent_frame(["a", "not-a-channel"], 10)
    assert empty.empty and len(none) == 0


@pytest.mark.parametrize("n_assets", [1, 3])
def test_no_readings_give_empty_frames(n_assets):
    none = np.zeros(0, dtype=np.int64)
    hist = Histories.pivot(none, none, none, np.zeros(0), n_assets, CHANNELS)
    since = np.zeros(n_assets, dtype="datetime64[us]")
    assert hist.life_frame(range(n_assets), since, DAY).empty
    assert len(hist.recent_frame(["a"], 5)[1]) == 0


def test_readings_without_gaps_give_each_asset_its_own_frame_too():
    df, starts = readings(2)
    whole = df[df["asset"] == 0]  # every channel at every time: nothing to carry forward
    hist = pivoted(whole, starts[:1])
    since = np.array([starts[0].tz_localize(None).asm8]).astype("datetime64[us]")
    frame = hist.life_frame(["e0"], since, DAY)
    assert not frame[CHANNELS].isna().any().any()
    np.testing.assert_array_equal(frame[CHANNELS], one_asset(whole, 0, starts[0])[CHANNELS])
