"""Causal window features over per-unit histories: what a model may know at each time step.

Every row gets features computed from its own unit's rows up to and including it, so a row of a
run-to-failure history looks exactly like the last row of a history cut at that point. Windows
shorter than requested at the start of a history use what there is.
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
        k = (idx - lo + 1).astype(float)
        st = _window_sum(cum_t, lo, idx)
        stt = _window_sum(cum_tt, lo, idx)
        sx = _window_sum(cum_x, lo, idx)
        stx = _window_sum(cum_tx, lo, idx)
        den = k * stt - st**2
        slope = (k[:, None] * stx - st[:, None] * sx) / np.where(den > 1e-12, den, np.inf)[:, None]
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
