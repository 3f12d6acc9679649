"""Many assets' readings as one table: the input of fleet scoring, built without a frame per asset.

Readings arrive long (asset, channel, time, value), as positions into an asset list and a channel
list, in any order. ``Histories.pivot`` sorts them once into one row per asset and time with a
column per channel, for all assets of a chunk together. From that table:

* ``life_frame``: each asset's life since its start, carried forward, from the first row at which
  every channel the asset reports has had a value (what ``service.prognostics.life_frame`` gives
  one asset at a time), as one long frame for ``SensorRulModel``;
* ``recent_frame``: each asset's last rows on a model's columns, carried forward, from the first
  row at which all of them have had a value, as one frame for ``HealthModel.health_many``.

A reading repeated at the same asset, channel and time (neither store keeps one) would take one
of its values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

_US = 1_000_000


@dataclass(frozen=True)
class Histories:
    """One row per asset and time (sorted so), a column per channel, NaN where no reading."""

    channels: list[str]
    bounds: np.ndarray  # rows of asset i are bounds[i]:bounds[i + 1]
    ts: np.ndarray  # int64 microseconds since 1970 (UTC), ascending within an asset
    values: np.ndarray  # (rows, channels)

    @classmethod
    def pivot(
        cls,
        asset: np.ndarray,
        channel: np.ndarray,
        ts: np.ndarray,
        value: np.ndarray,
        n_assets: int,
        channels: Sequence[str],
        since: np.ndarray | None = None,
    ) -> Histories:
        """From long readings: ``asset`` and ``channel`` positions, ``ts`` (datetime64 or int64
        microseconds), ``value``; ``since`` (one time per asset) drops readings before it."""
        a = np.asarray(asset, dtype=np.int64)
        c = np.asarray(channel, dtype=np.int64)
        t = _micros(ts)
        v = np.asarray(value, dtype=float)
        keep = ~np.isnan(v) & (a >= 0) & (c >= 0)
        if since is not None:
            keep &= t >= _micros(since)[np.maximum(a, 0)]
        if not keep.all():
            a, c, t, v = a[keep], c[keep], t[keep], v[keep]
        order, key = _by_asset_and_time(a, t)
        key = key[order]
        new = np.r_[True, key[1:] != key[:-1]] if len(a) else np.zeros(0, bool)
        values = np.full((int(new.sum()), len(channels)), np.nan)
        values[np.cumsum(new) - 1, c[order]] = v[order]
        first = order[new]  # a reading of each (asset, time) row
        bounds = np.searchsorted(a[first], np.arange(n_assets + 1))
        return cls(list(channels), bounds, t[first], values)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.bounds)

    def _filled(self, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Columns ``cols`` carried forward within each asset, and per asset and column the
        first row holding a value (-1 where the asset has none)."""
        n = len(self.ts)
        x = self.values[:, cols]
        rows = np.arange(n)[:, None]
        valid = ~np.isnan(x)
        first = np.full((len(self.bounds) - 1, len(cols)), -1)
        has_rows = self.bounds[1:] > self.bounds[:-1]
        if valid.all():  # no gaps (channels reported together): nothing to carry
            first[has_rows] = self.bounds[:-1][has_rows, None]
            return x, first
        last = np.maximum.accumulate(np.where(valid, rows, -1), axis=0)
        if has_rows.any():
            earliest = np.minimum.reduceat(np.where(valid, rows, n), self.bounds[:-1][has_rows])
            first[has_rows] = np.where(earliest < self.bounds[1:][has_rows][:, None], earliest, -1)
        # rows before an asset's first value of a column carry an earlier asset's: callers
        # take only rows from ``first`` on
        return x[np.maximum(last, 0), np.arange(len(cols))], first

    def life_frame(
        self, labels: Sequence, starts: np.ndarray, unit_seconds: float, unit_col: str = "unit"
    ) -> pd.DataFrame:
        """Each asset's complete rows as ``unit`` (its label), ``cycle`` (age since its start in
        units of ``unit_seconds``, rounded to 1e-6) and the channels (NaN for one it never
        reported); assets without a complete row are left out."""
        filled, first = self._filled(np.arange(len(self.channels)))
        present = first >= 0
        begin = np.where(present, first, -1).max(axis=1, initial=-1)
        begin = np.where(present.any(axis=1), begin, self.bounds[1:])
        rows = _ranges(begin, self.bounds[1:])
        owner = np.repeat(np.arange(len(begin)), self.bounds[1:] - begin)
        # the age as pandas gives it: whole microseconds, then seconds, then units
        age = (self.ts[rows] - _micros(starts)[owner]) / _US / unit_seconds
        vals = np.where(present[owner], filled[rows], np.nan)
        out = pd.DataFrame(vals, columns=self.channels)
        out.insert(0, "cycle", np.round(age, 6))
        out.insert(0, unit_col, np.asarray(labels)[owner])
        return out

    def recent_frame(self, columns: Sequence[str], n: int) -> tuple[pd.DataFrame, np.ndarray]:
        """The last ``n`` rows of each asset on ``columns``, carried forward, from the first row
        at which every one of them has a value, and each row's asset position; an asset lacking
        one of the columns is left out."""
        pos = {c: i for i, c in enumerate(self.channels)}
        have = [c in pos for c in columns]
        if not all(have):
            return pd.DataFrame(columns=list(columns)), np.zeros(0, dtype=np.int64)
        filled, first = self._filled(np.array([pos[c] for c in columns], dtype=np.int64))
        ok = (first >= 0).all(axis=1)
        end = self.bounds[1:]
        begin = np.where(ok, np.maximum(first.max(axis=1), end - n), end)
        rows = _ranges(begin, end)
        owner = np.repeat(np.arange(len(begin)), end - begin)
        return pd.DataFrame(filled[rows], columns=list(columns)), owner

    def last_times(self) -> np.ndarray:
        """Each asset's last time (int64 microseconds), -1 for one without rows."""
        end = self.bounds[1:]
        return np.where(end > self.bounds[:-1], self.ts[np.maximum(end - 1, 0)], -1)


def _by_asset_and_time(a: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The order sorting readings by asset, then time, and a key equal for equal (asset, time).

    One int64 key sorts 7x faster than ``lexsort`` over the two (readings come in runs already
    sorted, which a stable sort takes as they are); the two keys remain for time spans too
    wide for one.
    """
    if not len(a):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    t0, span = t.min(), int(t.max() - t.min()) + 1
    if (int(a.max()) + 1) * span < 2**62:
        key = a * span + (t - t0)
        return np.argsort(key, kind="stable"), key
    order = np.lexsort((t, a))
    key = np.empty(len(a), dtype=np.int64)  # ranks of distinct (asset, time) pairs
    sa, st = a[order], t[order]
    key[order] = np.cumsum(np.r_[True, (sa[1:] != sa[:-1]) | (st[1:] != st[:-1])])
    return order, key


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(lo[i], hi[i])``."""
    n = np.maximum(hi - lo, 0)
    if not n.sum():
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(lo - np.r_[0, np.cumsum(n)[:-1]], n)
    return np.arange(n.sum()) + offsets


def _micros(ts) -> np.ndarray:
    """Times as int64 microseconds since 1970 (UTC): datetime64 of any unit, or int64 as is."""
    arr = np.asarray(ts)
    if np.issubdtype(arr.dtype, np.datetime64):
        return arr.astype("datetime64[us]").astype(np.int64)
    return arr.astype(np.int64)
