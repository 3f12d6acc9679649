"""Wear-trend forecasts of one asset from its own readings (types with a failure threshold).

The trend is ``analytics.wear.WearTrendModel`` fitted on the part's readings since it was
fitted; the rules below say when it is too early to believe one, and pool the whole life's
trend with the recent stretch's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from prognos.domain import Asset, AssetType, FailureForecast
from prognos.store.ports import ReadingsPort

# A wear trend extrapolates at most ten times the span it has seen (``WearTrendModel.forecast``
# puts the draws beyond at that horizon). A part a few days old whose trend mostly does not reach
# its threshold within that horizon has no forecast yet: read as one, its draws piled at the
# horizon said "fails in ten times its age", and the planner replaced new parts (2-day-old
# chains "failing within 20 days"). Its forecast comes once the trend reaches the threshold
# within the horizon in at least half the draws, and the part's trend has covered ``MIN_WORN``
# of the way from its first reading to the threshold: before that a trend of a few days is
# noise and a daily pattern (an elevator's busy hours), and its convex fits put the end within
# weeks for a part with months left (the planner replaced them; by then a part is a tenth of the
# way, for these types well before the last 56 days of its life).
TOO_EARLY = 0.5
MIN_WORN = 0.1
# The forecast pools the whole life's trend with that of its recent stretch (from RECENT of the
# part's age on): a chain's wear that sped up when its lubrication failed was averaged over the
# life, and a week before the end its forecast said a month.
RECENT = 0.7


def wear_forecast(readings: ReadingsPort, asset: Asset, t: AssetType) -> FailureForecast | None:
    """For types with a wear channel and a failure threshold: extrapolate this asset's own
    trend."""
    from sklearn.base import clone

    from prognos.analytics.wear import WearTrendModel  # scipy: loaded when first needed

    if not t.failure_threshold:
        return None
    channel, threshold = next(iter(t.failure_threshold.items()))
    long = readings.read_telemetry(asset.id, [channel], start=asset.installed_at)
    if len(long) < 5:
        return None
    age = (
        long["ts"] - pd.Timestamp(asset.installed_at)
    ).dt.total_seconds().to_numpy() / t.time_unit.seconds
    y = long["value"].to_numpy()
    model = WearTrendModel(threshold=threshold, form="power", n_samples=2000, random_state=0)
    model.fit(age[:, None], y)
    recent = age >= RECENT * age[-1]  # the last 30 % of the life so far
    also = []
    if recent.sum() >= 5 and age[recent][0] > age[0]:
        also = [clone(model).fit(age[recent][:, None], y[recent])]
    as_of = long["ts"].iloc[-1].to_pydatetime()
    f = model.forecast(
        asset.id,
        as_of=as_of,
        t_now=float(age[-1]),
        time_unit=t.time_unit.value,
        component=None,
        also=also,
    )
    start, last = model.predict(np.array([[age[0]], [age[-1]]]))
    worn = (last - start) / (threshold - start) if threshold != start else 1.0
    if worn < MIN_WORN or f.extra["p_beyond_horizon"] >= TOO_EARLY:
        return None  # too early to tell: see TOO_EARLY
    return f
