"""Grouped statistics of the health model: robust centres and window means of many assets at
once, equal bit for bit to one asset at a time.

numpy reduces along the middle axis of a stack of blocks as it reduces along the first axis of
one block (row after row), so stacking the assets that have equally many rows and reducing
once per distinct count gives each asset the numbers its own call would, at a few dozen calls
per chunk instead of one per asset.
"""

from __future__ import annotations

import numpy as np

_MAD_TO_SD = 1.4826


def robust_centre(rows: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Median and scaled MAD of each column (MAD 0: the SD; SD 0: 0), over ``axis``: 1 for a
    stack of equally long blocks of rows, one per asset (the same numbers as one by one)."""
    med = np.median(rows, axis=axis)
    mad = _MAD_TO_SD * np.median(np.abs(rows - np.expand_dims(med, axis)), axis=axis)
    sd = rows.std(axis=axis)
    return med, np.where(mad > 0, mad, sd)


def own_centres(values, group, rows, own, min_rows, center, spread) -> None:
    """``robust_centre`` of the ``rows`` (a mask; rows grouped by asset ``group``) of each asset
    in ``own`` with at least ``min_rows`` of them, into ``center[g]`` and ``spread[g]``: assets
    with equally many rows as one stack, one call per count instead of one per asset."""
    idx = np.flatnonzero(rows)
    g = group[idx]
    n = np.bincount(g, minlength=len(own))
    for c in np.unique(n[own & (n >= max(min_rows, 1))]):
        gs = np.flatnonzero(own & (n == c))
        block = values[idx[np.isin(g, gs)]].reshape(len(gs), int(c), values.shape[1])
        center[gs], spread[gs] = robust_centre(block, axis=1)


def last_means(
    z: np.ndarray, ok: np.ndarray, group: np.ndarray, n_groups: int, w: int
) -> np.ndarray:
    """Mean of each group's last ``w`` rows of ``z`` among those ``ok`` (its last ``w`` rows
    when none is): rows grouped by ``group`` (0 .. ``n_groups`` - 1, each present), in order."""
    has_ok = np.bincount(group[ok], minlength=n_groups) > 0
    idx = np.flatnonzero(ok | ~has_ok[group])
    g = group[idx]
    ends = np.cumsum(np.bincount(g, minlength=n_groups))
    last = ends[g] - np.arange(len(idx)) <= w  # among the group's last w of them
    idx, g = idx[last], g[last]
    n = np.bincount(g, minlength=n_groups)
    out = np.empty((n_groups, z.shape[1]))
    for c in np.unique(n):
        gs = np.flatnonzero(n == c)
        out[gs] = z[idx[np.isin(g, gs)]].reshape(len(gs), int(c), z.shape[1]).mean(axis=1)
    return out


def rolling_means(z: np.ndarray, window: int) -> np.ndarray:
    """Means of every run of ``window`` consecutive rows (all rows when fewer)."""
    w = max(1, min(window, len(z)))
    if not len(z):
        return np.zeros((0, z.shape[1]))
    c = np.cumsum(np.vstack([np.zeros((1, z.shape[1])), z]), axis=0)
    return (c[w:] - c[:-w]) / w


def resolution(v: np.ndarray) -> float:
    """The smallest step between distinct values of a channel (0 when it takes one value)."""
    u = np.unique(v[np.isfinite(v)])
    if len(u) < 2:
        return 0.0
    return float(np.min(np.diff(u)))
