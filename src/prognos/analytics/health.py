"""Health now: how far recent readings sit from the healthy period, and which channels say so.

``HealthModel`` learns, from telemetry of a period known to be healthy, each channel's robust
centre and spread (median and scaled MAD, per operating regime when ``settings`` columns name the
operating point) and the correlation of the resulting z-scores (Ledoit-Wolf shrunk). A window of
recent readings is then summarised by the Mahalanobis distance ``D`` of its mean z-vector:

* ``score = 100`` while ``D`` stays within the healthy period's 99th percentile ``D_ref`` of
  window distances, then ``100 * exp(-(D - D_ref) / D_ref)``: 37 at twice ``D_ref``;
* drivers: each channel's share of ``D**2`` (``z_j * (P z)_j``, positive parts, summing to 1);
* anomalies: channels whose window-mean or latest z-score reaches ``z_threshold``.

As a scikit-learn outlier detector, ``predict`` flags single readings beyond the healthy 99th
percentile of per-reading distance (-1) and ``score_samples`` is minus that distance.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.covariance import LedoitWolf
from sklearn.utils.validation import check_is_fitted, validate_data

from prognos.analytics.regimes import find_regimes
from prognos.domain.forecast import HealthScore
from prognos.errors import ModelError

_MAD_TO_SD = 1.4826


class HealthModel(OutlierMixin, BaseEstimator):
    """Robust z-scores and Mahalanobis distance against a healthy period; wide input."""

    def __init__(
        self,
        settings: Sequence[str] = (),
        window: int = 10,
        z_threshold: float = 4.0,
        reference_quantile: float = 0.99,
        random_state: int | None = 0,
    ):
        self.settings = settings
        self.window = window
        self.z_threshold = z_threshold
        self.reference_quantile = reference_quantile
        self.random_state = random_state

    # -- rows to z-scores ---------------------------------------------------------------------
    def _split(self, X, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        """Channel values (validated) and settings values of ``X``."""
        settings = list(self.settings)
        if settings:
            if not isinstance(X, pd.DataFrame):
                raise ModelError("HealthModel with settings needs a DataFrame with those columns")
            channels = [c for c in X.columns if c not in settings]
            values = validate_data(self, X[channels], reset=reset)
            return values, X[settings].to_numpy(dtype=float)
        values = validate_data(self, X, reset=reset)
        return values, np.empty((values.shape[0], 0))

    def _regimes(self, s: np.ndarray) -> np.ndarray:
        if self.kmeans_ is None:
            return np.zeros(len(s), dtype=int)
        return self.kmeans_.predict((s - self.kmeans_.mean_) / self.kmeans_.scale_)

    def _z(self, X) -> np.ndarray:
        values, s = self._split(X, reset=False)
        r = self._regimes(s)
        return (values - self.center_[r]) / self.spread_[r]

    def _distance(self, z: np.ndarray) -> np.ndarray:
        return np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", z, self.precision_, z), 0.0))

    def fit(self, X, y=None) -> HealthModel:
        values, s = self._split(X, reset=True)
        self.kmeans_ = find_regimes(s, random_state=self.random_state) if s.shape[1] else None
        r = self._regimes(s)
        n_reg = 1 if self.kmeans_ is None else int(self.kmeans_.n_clusters)
        p = values.shape[1]
        self.center_, self.spread_ = np.zeros((n_reg, p)), np.ones((n_reg, p))
        for k in range(n_reg):
            rows = values[r == k] if (r == k).any() else values
            med = np.median(rows, axis=0)
            mad = _MAD_TO_SD * np.median(np.abs(rows - med), axis=0)
            sd = rows.std(axis=0)
            self.center_[k] = med
            # a channel with a flat majority (MAD 0) falls back to its SD, then to 1
            self.spread_[k] = np.where(mad > 0, mad, np.where(sd > 0, sd, 1.0))
        z = (values - self.center_[r]) / self.spread_[r]
        self.precision_ = LedoitWolf().fit(z).precision_ if len(z) > 1 else np.eye(p)
        row_d = self._distance(z)
        self.offset_ = -float(np.quantile(row_d, self.reference_quantile))
        w = max(1, min(self.window, len(z)))
        means = pd.DataFrame(z).rolling(w).mean().to_numpy()[w - 1 :]
        self.window_reference_ = float(
            max(np.quantile(self._distance(means), self.reference_quantile), 1e-9)
        )
        return self

    # -- sklearn outlier-detector face ----------------------------------------------------------
    def score_samples(self, X) -> np.ndarray:
        """Minus the Mahalanobis distance of each reading: lower is less healthy."""
        check_is_fitted(self, "precision_")
        return -self._distance(self._z(X))

    def decision_function(self, X) -> np.ndarray:
        return self.score_samples(X) - self.offset_

    def predict(self, X) -> np.ndarray:
        return np.where(self.decision_function(X) >= 0, 1, -1)

    # -- the platform's face ------------------------------------------------------------------
    def health(
        self, recent: pd.DataFrame, asset_id: str, as_of: datetime | None = None
    ) -> HealthScore:
        """HealthScore of one asset from its most recent ``window`` readings (rows in time order)."""
        check_is_fitted(self, "precision_")
        if len(recent) == 0:
            raise ModelError("no recent readings to score", hint="send telemetry first")
        tail = (
            recent.iloc[-self.window :]
            if isinstance(recent, pd.DataFrame)
            else recent[-self.window :]
        )
        return self.health_many(tail, [asset_id] * len(tail), None if as_of is None else [as_of])[0]

    def health_many(
        self, recent, units: Sequence, as_of: Sequence[datetime] | None = None
    ) -> list[HealthScore]:
        """``health`` of many assets in one pass: rows grouped by ``units`` (the asset id of each
        row), each group in time order; one HealthScore per group, in order. ``as_of`` gives
        each group's time (default: its last row's index when that is a time, else now)."""
        check_is_fitted(self, "precision_")
        u = np.asarray(units)
        if len(u) == 0:
            return []
        if len(u) != len(recent):
            raise ModelError(f"{len(recent)} rows of readings but {len(u)} unit labels")
        z = self._z(recent)
        bounds = np.flatnonzero(np.r_[True, u[1:] != u[:-1], True])
        s, e = bounds[:-1], bounds[1:] - 1
        w = max(self.window, 1)
        idx = e[:, None] - w + 1 + np.arange(w)[None, :]
        ok = idx >= s[:, None]
        zw = np.where(ok[..., None], z[np.maximum(idx, 0)], 0.0)  # each group's last w rows
        zbar = zw.sum(axis=1) / ok.sum(axis=1)[:, None]
        d = self._distance(zbar)
        ref = self.window_reference_
        score = 100.0 * np.minimum(1.0, np.exp(-(d - ref) / ref))
        contrib = np.maximum(zbar * (zbar @ self.precision_.T), 0.0)
        total = contrib.sum(axis=1)
        strongest = np.where(np.abs(z[e]) > np.abs(zbar), z[e], zbar)
        names = [
            str(c) for c in getattr(self, "feature_names_in_", [f"x{i}" for i in range(z.shape[1])])
        ]
        when = list(as_of) if as_of is not None else [self._when(recent, i) for i in e]
        out = []
        for g in range(len(s)):
            c, tot = contrib[g], total[g]
            drivers = {
                names[j]: round(float(c[j] / tot), 4)
                for j in np.argsort(-c, kind="stable")
                if tot > 0 and c[j] / tot >= 0.01
            }
            anomalies = {
                n: round(float(v), 3)
                for n, v in zip(names, strongest[g], strict=True)
                if abs(v) >= self.z_threshold
            }
            out.append(
                HealthScore(str(u[s[g]]), when[g], round(float(score[g]), 2), drivers, anomalies)
            )
        return out

    @staticmethod
    def _when(recent, row: int) -> datetime:
        last = recent.index[row] if isinstance(recent, pd.DataFrame) else None
        return last.to_pydatetime() if isinstance(last, pd.Timestamp) else datetime.now(UTC)
