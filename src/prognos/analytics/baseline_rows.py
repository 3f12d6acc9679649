"""Which readings of a life make its healthy baseline: at least a number of them AND a span of time.

A count alone fails parts that report often: 50 readings every few minutes cover a few hours of
a daily cycle (humidity, a shift's load), and the same healthy part scores badly at night
against a daytime baseline. So a baseline holds every reading of the life's first
``span_us`` (from its first reading) and at least its first ``rows`` readings, whichever is
more. It is *complete* once the life has ``rows`` readings and one at or past the span: later
readings can no longer join it, so it may be kept.

A part reporting every second would put 86,400 readings in a day's baseline; the rows are
thinned evenly over the span to at most ``cap``, so a baseline's cost stays bounded (and
complete baselines share one length, which ``health_stats.own_centres`` stacks in one call).

Times are int64 microseconds since 1970 (or since any origin: only differences count), in time
order within each group; without times (a life indexed by position) the rule is the count alone.
The cut is one ``searchsorted`` per group and numpy index arithmetic, no Python per row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HOUR_US = 3_600_000_000


def row_times(frame) -> np.ndarray | None:
    """``frame``'s times as int64 microseconds: its DatetimeIndex (or TimedeltaIndex, an age),
    else None (rows known by position only)."""
    index = getattr(frame, "index", None)
    if isinstance(index, pd.DatetimeIndex):
        return index.as_unit("us").asi8.copy()
    if isinstance(index, pd.TimedeltaIndex):
        return index.as_unit("us").asi8.copy()
    return None


def by_age(life: pd.DataFrame, unit_seconds: float) -> pd.DataFrame:
    """A life frame (``unit``, ``cycle``: its age in units of ``unit_seconds``, channels) as its
    channels indexed by age (a TimedeltaIndex), so its healthy period spans time."""
    age = pd.to_timedelta(life["cycle"].to_numpy(dtype=float) * unit_seconds, unit="s")
    return life.drop(columns=["unit", "cycle"]).set_axis(age)


def first_span(
    times: np.ndarray | None, bounds: np.ndarray, rows: int, span_us: int, cap: int
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of each group's baseline readings (groups are ``bounds[g]:bounds[g + 1]``, each
    non-empty, in time order) and whether each group's baseline is complete."""
    starts, ends = bounds[:-1], bounds[1:]
    n = ends - starts
    k = np.minimum(n, rows)
    if times is None or span_us <= 0:
        complete = n >= rows
    else:
        t = np.asarray(times, dtype=np.int64)
        until = t[starts] + span_us
        within = np.array(  # readings before the span's end, one binary search per group
            [
                np.searchsorted(t[a:e], u, side="left")
                for a, e, u in zip(starts, ends, until, strict=True)
            ],
            dtype=np.int64,
        )
        k = np.maximum(k, within)
        complete = (n >= rows) & (t[ends - 1] >= until)
    kept = np.minimum(k, max(cap, 2))
    owner = np.repeat(np.arange(len(n)), kept)
    j = np.arange(int(kept.sum())) - np.repeat(np.cumsum(kept) - kept, kept)
    thin = k > kept  # evenly over the span: the first and the last reading of it kept
    step = np.where(thin, (k - 1) / np.maximum(kept - 1, 1), 1.0)
    offset = np.where(thin[owner], np.rint(j * step[owner]).astype(np.int64), j)
    return starts[owner] + offset, complete
