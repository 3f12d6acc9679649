"""Causal window features over per-unit histories: what a model may know at each time step.

Every row gets features computed from its own unit's rows up to and including it, so a row of a
run-to-failure history looks exactly like the last row of a history cut at that point. Windows
shorter than requested at the start of a history use what there is.

``window_features`` gives every row (training); ``last_window_features`` gives the last row of
each unit only (scoring), from that unit's last and first few rows, for all units at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.signal import lfilter


def _starts(units: np.ndarray) -> np.ndarray:
    """Index of the first row of each row's unit (rows sorted by unit)."""
    new = np.r_[True, units[1:] != units[:-1]]
    first = np.flatnonzero(new)
    return first[np.cumsum(new) - 1]


def _window_sum(cum: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return cum[hi + 1] - cum[lo]


def _slope(window_sum, cums, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Least-squares slope over rows ``lo..hi`` from running sums of t, t², x and t·x (the
    per-row and the last-row-only passes share it, so both give the same bits)."""
    cum_t, cum_tt, cum_x, cum_tx = cums
    k = (hi - lo + 1).astype(float)
    st = window_sum(cum_t, lo, hi)
    stt = window_sum(cum_tt, lo, hi)
    sx = window_sum(cum_x, lo, hi)
    stx = window_sum(cum_tx, lo, hi)
    den = k * stt - st**2
    return (k[:, None] * stx - st[:, None] * sx) / np.where(den > 1e-12, den, np.inf)[:, None]


def _ewm(values: np.ndarray, starts: np.ndarray, span: float) -> np.ndarray:
    """Exponentially weighted mean per unit (pandas ``adjust=False``), started at the first value."""
    a = 2.0 / (span + 1.0)
    out = np.empty_like(values)
    bounds = np.r_[np.unique(starts), len(values)]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        x = values[lo:hi]
        out[lo:hi], _ = lfilter([a], [1.0, a - 1.0], x, axis=0, zi=((1 - a) * x[:1]))
    return out


def window_features(
    values: np.ndarray,
    units: np.ndarray,
    times: np.ndarray,
    names: Sequence[str],
    *,
    windows: Sequence[int] = (5, 10, 20, 30),
    slope_windows: Sequence[int] = (10, 20, 30),
    spans: Sequence[float] = (10.0, 30.0),
    baseline: int = 10,
) -> pd.DataFrame:
    """Per-row features of ``values`` (rows sorted by unit, then time).

    For each channel: the last value, rolling means and least-squares slopes over the last
    ``windows``/``slope_windows`` rows, exponentially weighted means, and the drift of the longest
    rolling mean from the unit's own first ``baseline`` rows. Plus ``age`` (time since the unit's
    first row) and ``n_obs`` (rows seen so far).
    """
    v = np.asarray(values, dtype=float)
    t = np.asarray(times, dtype=float)
    u = np.asarray(units)
    bounds = np.flatnonzero(np.r_[True, u[1:] != u[:-1], True]) if len(u) else np.array([0])
    if len(bounds) > 2:
        # one unit at a time: running sums over the whole batch would round differently with
        # the batch's composition, and a unit's features must not depend on its neighbours
        kw = dict(windows=windows, slope_windows=slope_windows, spans=spans, baseline=baseline)
        parts = [
            window_features(v[lo:hi], u[lo:hi], t[lo:hi], names, **kw)
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
        ]
        return pd.concat(parts, ignore_index=True)
    n, c = v.shape
    idx = np.arange(n)
    start = _starts(np.asarray(units))
    pad = np.zeros((1, c))
    cum_x = np.vstack([pad, np.cumsum(v, axis=0)])
    tc = (t - t[start])[:, None]  # time since unit start keeps the sums well conditioned
    cum_t = np.r_[0.0, np.cumsum(tc[:, 0])]
    cum_tt = np.r_[0.0, np.cumsum(tc[:, 0] ** 2)]
    cum_tx = np.vstack([pad, np.cumsum(tc * v, axis=0)])
    cols: dict[str, np.ndarray] = {}

    def mean_over(w: int) -> np.ndarray:
        lo = np.maximum(start, idx - w + 1)
        return _window_sum(cum_x, lo, idx) / (idx - lo + 1)[:, None]

    for j, name in enumerate(names):
        cols[f"{name}__last"] = v[:, j]
    for w in windows:
        m = mean_over(w)
        for j, name in enumerate(names):
            cols[f"{name}__mean{w}"] = m[:, j]
    for w in slope_windows:
        lo = np.maximum(start, idx - w + 1)
        slope = _slope(_window_sum, (cum_t, cum_tt, cum_x, cum_tx), lo, idx)
        for j, name in enumerate(names):
            cols[f"{name}__slope{w}"] = slope[:, j]
    for span in spans:
        e = _ewm(v, start, span)
        for j, name in enumerate(names):
            cols[f"{name}__ewm{span:g}"] = e[:, j]
    if baseline > 0:
        hi = np.minimum(start + baseline - 1, idx)
        base = _window_sum(cum_x, start, hi) / (hi - start + 1)[:, None]
        drift = mean_over(max(windows, default=baseline)) - base
        for j, name in enumerate(names):
            cols[f"{name}__drift"] = drift[:, j]
    cols["age"] = tc[:, 0]
    cols["n_obs"] = (idx - start + 1).astype(float)
    return pd.DataFrame(cols)


def _last_of_padded(
    v: np.ndarray,
    t: np.ndarray,
    s: np.ndarray,
    n: np.ndarray,
    names: Sequence[str],
    windows: Sequence[int],
    slope_windows: Sequence[int],
    spans: Sequence[float],
    baseline: int,
) -> dict[str, np.ndarray]:
    """``window_features`` at the last row of units starting at rows ``s`` with ``n`` rows each,
    the units laid side by side, zero-padded to the longest: the same running sums and filters
    along each unit, in the same order, so the same numbers to the last bit."""
    g, width = len(s), int(n.max())
    pos = np.arange(width)[None, :]
    inside = pos < n[:, None]
    rows = np.minimum(s[:, None] + pos, len(v) - 1)
    x = np.where(inside[..., None], v[rows], 0.0)
    tc = np.where(inside, t[rows] - t[s][:, None], 0.0)  # time since unit start
    zero = np.zeros((g, 1, x.shape[2]))
    cum_x = np.concatenate([zero, np.cumsum(x, axis=1)], axis=1)
    cum_t = np.concatenate([zero[:, :, 0], np.cumsum(tc, axis=1)], axis=1)
    cum_tt = np.concatenate([zero[:, :, 0], np.cumsum(tc**2, axis=1)], axis=1)
    cum_tx = np.concatenate([zero, np.cumsum(tc[..., None] * x, axis=1)], axis=1)
    at = np.arange(g)
    last = n - 1

    def window_sum(cum: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return cum[at, hi + 1] - cum[at, lo]

    def mean_over(w: int) -> np.ndarray:
        lo = np.maximum(0, last - w + 1)
        return window_sum(cum_x, lo, last) / (last - lo + 1)[:, None]

    cols: dict[str, np.ndarray] = {}
    for j, name in enumerate(names):
        cols[f"{name}__last"] = x[at, last, j]
    for w in windows:
        m = mean_over(w)
        for j, name in enumerate(names):
            cols[f"{name}__mean{w}"] = m[:, j]
    for w in slope_windows:
        lo = np.maximum(0, last - w + 1)
        slope = _slope(window_sum, (cum_t, cum_tt, cum_x, cum_tx), lo, last)
        for j, name in enumerate(names):
            cols[f"{name}__slope{w}"] = slope[:, j]
    for span in spans:
        a = 2.0 / (span + 1.0)
        e, _ = lfilter([a], [1.0, a - 1.0], x, axis=1, zi=(1 - a) * x[:, :1])
        for j, name in enumerate(names):
            cols[f"{name}__ewm{span:g}"] = e[at, last, j]
    if baseline > 0:
        hi = np.minimum(baseline - 1, last)
        base = window_sum(cum_x, np.zeros(g, dtype=int), hi) / (hi + 1)[:, None]
        drift = mean_over(max(windows, default=baseline)) - base
        for j, name in enumerate(names):
            cols[f"{name}__drift"] = drift[:, j]
    cols["age"] = tc[at, last]
    cols["n_obs"] = n.astype(float)
    return cols


def last_window_features(
    values: np.ndarray,
    units: np.ndarray,
    times: np.ndarray,
    names: Sequence[str],
    *,
    windows: Sequence[int] = (5, 10, 20, 30),
    slope_windows: Sequence[int] = (10, 20, 30),
    spans: Sequence[float] = (10.0, 30.0),
    baseline: int = 10,
    max_cells: int = 1_000_000,
) -> pd.DataFrame:
    """``window_features`` at the last row of each unit only, one row per unit in order, equal
    to it bit for bit (a model's split can fall between two roundings of one window mean).

    Rows sorted by unit, then time. Units of similar length are computed together, side by
    side, at most ``max_cells`` values at a time (memory stays bounded for long histories).
    """
    v = np.asarray(values, dtype=float)
    t = np.asarray(times, dtype=float)
    u = np.asarray(units)
    columns = _names(names, windows, slope_windows, spans, baseline)
    if len(u) == 0:
        return pd.DataFrame(columns=columns)
    bounds = np.flatnonzero(np.r_[True, u[1:] != u[:-1], True])
    s, n = bounds[:-1], np.diff(bounds)
    out = np.empty((len(s), len(columns)))
    by_length = np.argsort(n, kind="stable")
    lo = 0
    while lo < len(by_length):
        hi = lo + 1  # the next units, as many as fit beside the longest of them
        while hi < len(by_length) and (hi + 1 - lo) * n[by_length[hi]] * v.shape[1] <= max_cells:
            hi += 1
        group = by_length[lo:hi]
        cols = _last_of_padded(
            v, t, s[group], n[group], names, windows, slope_windows, spans, baseline
        )
        out[group] = np.column_stack([cols[c] for c in columns])
        lo = hi
    return pd.DataFrame(out, columns=columns)


def _names(names, windows, slope_windows, spans, baseline) -> list[str]:
    """The columns of ``window_features``, in order."""
    out = [f"{n}__last" for n in names]
    out += [f"{n}__mean{w}" for w in windows for n in names]
    out += [f"{n}__slope{w}" for w in slope_windows for n in names]
    out += [f"{n}__ewm{s:g}" for s in spans for n in names]
    out += [f"{n}__drift" for n in names] if baseline > 0 else []
    return [*out, "age", "n_obs"]
