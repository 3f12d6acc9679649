"""What the models say at past moments of an asset's history: health and forecasts at
checkpoints, each from the readings up to that moment only.

Both the window features of the RUL model and the health model's carried-forward window are
causal, so one pass over a life gives every checkpoint's answer: the model's features are
computed once for the whole life and read at the checkpoints, and the health model scores the
window ending at each checkpoint. ``prognos forecast --history`` stores these answers (without
raising alarms), ``prognos backtest`` compares them with what happened.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from prognos.domain import FailureForecast, HealthScore
from prognos.domain.forecast import DEFAULT_LEVELS


def checkpoints(n_rows: int, points: int | None) -> np.ndarray:
    """Row positions to replay at: every row, or ``points`` evenly spread (the last included)."""
    if n_rows == 0:
        return np.array([], dtype=int)
    if points is None or points >= n_rows:
        return np.arange(n_rows)
    return np.unique(np.linspace(0, n_rows - 1, max(points, 1)).round().astype(int))


def rul_quantiles(model, frame: pd.DataFrame, rows: np.ndarray, levels=DEFAULT_LEVELS):
    """RUL quantiles of a sensor RUL model at the given rows of one life's frame (``unit``,
    ``cycle``, channels; sorted by cycle)."""
    feats = model.features(frame)
    x = feats[model.feature_names_].to_numpy()[rows]
    return model.estimator_.predict_quantiles(x, levels)


def rul_forecasts(
    model,
    frame: pd.DataFrame,
    rows: np.ndarray,
    asset_id: str,
    times: list[datetime],
    time_unit: str,
    model_id: str,
) -> list[FailureForecast]:
    """``rul_quantiles`` as the forecasts the model would have stored at those moments."""
    from prognos.analytics.rul import MODEL_NAME

    q = rul_quantiles(model, frame, rows)
    cycles = frame["cycle"].to_numpy(dtype=float)[rows]
    shape = getattr(model, "lower_tail_shape", 1.0)
    return [
        FailureForecast(
            asset_id,
            at,
            DEFAULT_LEVELS,
            tuple(float(v) for v in q[k]),
            time_unit,
            MODEL_NAME,
            model_id,
            None,
            extra={"age": float(cycles[k]), "capped_at": model.cap, "replayed": True},
            lower_tail_shape=shape,
        )
        for k, at in enumerate(times)
    ]


def health_path(
    model, wide: pd.DataFrame, times: list[pd.Timestamp], asset_id: str
) -> list[HealthScore | None]:
    """The health model's score at each time from the readings up to it (the window
    ``ForecastService.health`` scores now, ending there instead)."""
    cols = list(model.settings) + [c for c in model.feature_names_in_ if c not in model.settings]
    ready = wide.reindex(columns=cols).ffill().dropna()
    keep = max(model.window, 1) * 3
    stamps = ready.index
    out: list[HealthScore | None] = []
    for t in times:
        end = stamps.searchsorted(t, side="right")
        recent = ready.iloc[max(0, end - keep) : end]
        if recent.empty:
            out.append(None)
            continue
        out.append(model.health(recent[cols], asset_id, as_of=recent.index[-1].to_pydatetime()))
    return out
