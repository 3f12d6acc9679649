"""Operating regimes: cluster the operating-setting columns, then normalise sensors per regime.

Engines (and most machines) read very differently at different operating points; a sensor only
says something about wear relative to what it reads *at that operating point*. C-MAPSS FD002/FD004
fly six flight conditions, FD001/FD003 one. The number of regimes is found from the data: KMeans on
standardised, rounded settings for k = 2..max, keeping the k with the best silhouette when that
silhouette shows well-separated clusters, else one regime.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from prognos.errors import ModelError


def find_regimes(
    settings: np.ndarray,
    *,
    max_regimes: int = 8,
    min_silhouette: float = 0.7,
    decimals: int = 2,
    sample: int = 2000,
    random_state: int | None = 0,
) -> KMeans | None:
    """A fitted KMeans over standardised settings, or None when one regime explains them."""
    s = np.asarray(settings, dtype=float)
    if s.ndim != 2 or s.shape[1] == 0 or len(s) < 4:
        return None
    scale = s.std(axis=0)
    z = np.round((s - s.mean(axis=0)) / np.where(scale > 0, scale, 1.0), decimals)
    rng = np.random.default_rng(random_state)
    sub = z[rng.choice(len(z), size=min(sample, len(z)), replace=False)]
    n_distinct = len(np.unique(sub, axis=0))
    best, best_score = None, min_silhouette
    # a few thousand 3-d points: threads only add overhead (and spin when cores are busy)
    with threadpool_limits(1):
        for k in range(2, min(max_regimes, n_distinct - 1) + 1):
            km = KMeans(n_clusters=k, n_init=2, random_state=random_state).fit(sub)
            score = silhouette_score(
                sub, km.labels_, sample_size=min(1000, len(sub)), random_state=0
            )
            if score > best_score + 1e-3:
                best, best_score = km, score
    if best is None:
        return None
    # new rows are standardised the same way and assigned to the nearest centre (unrounded)
    best.mean_ = s.mean(axis=0)  # type: ignore[attr-defined]
    best.scale_ = np.where(scale > 0, scale, 1.0)  # type: ignore[attr-defined]
    return best


class RegimeNormalizer(TransformerMixin, BaseEstimator):
    """Label rows with their operating regime and z-score sensors within it; drop flat sensors.

    Works on a DataFrame holding ``settings`` and ``sensors`` columns and returns a DataFrame with
    ``regime`` and the kept sensors, normalised; other columns pass through unchanged.
    """

    def __init__(
        self,
        settings: Sequence[str] = (),
        sensors: Sequence[str] | None = None,
        max_regimes: int = 8,
        min_silhouette: float = 0.7,
        min_rel_std: float = 1e-6,
        random_state: int | None = 0,
    ):
        self.settings = settings
        self.sensors = sensors
        self.max_regimes = max_regimes
        self.min_silhouette = min_silhouette
        self.min_rel_std = min_rel_std
        self.random_state = random_state

    def _regime(self, frame: pd.DataFrame) -> np.ndarray:
        if self.kmeans_ is None:
            return np.zeros(len(frame), dtype=int)
        s = frame[list(self.settings)].to_numpy(dtype=float)
        z = (s - self.kmeans_.mean_) / self.kmeans_.scale_
        return self.kmeans_.predict(z)

    def fit(self, X: pd.DataFrame, y=None) -> RegimeNormalizer:
        if not isinstance(X, pd.DataFrame):
            raise ModelError("RegimeNormalizer needs a DataFrame with named columns")
        settings = list(self.settings)
        sensors = (
            list(self.sensors)
            if self.sensors is not None
            else [c for c in X.columns if c not in settings and pd.api.types.is_numeric_dtype(X[c])]
        )
        self.kmeans_ = (
            find_regimes(
                X[settings].to_numpy(dtype=float),
                max_regimes=self.max_regimes,
                min_silhouette=self.min_silhouette,
                random_state=self.random_state,
            )
            if settings
            else None
        )
        self.n_regimes_ = 1 if self.kmeans_ is None else int(self.kmeans_.n_clusters)
        regime = self._regime(X)
        values = X[sensors].to_numpy(dtype=float)
        mean = np.zeros((self.n_regimes_, len(sensors)))
        std = np.ones((self.n_regimes_, len(sensors)))
        for r in range(self.n_regimes_):
            rows = values[regime == r]
            if len(rows):
                mean[r] = np.nanmean(rows, axis=0)
                std[r] = np.nanstd(rows, axis=0)
        # flat within every regime, or a handful of levels (one per regime): no information
        rel = std / (np.abs(mean) + 1e-9)
        n_distinct = np.array([len(np.unique(values[:, j])) for j in range(values.shape[1])])
        keep = (np.nanmax(rel, axis=0) > self.min_rel_std) & (n_distinct > 2 * self.n_regimes_)
        if not keep.any():
            raise ModelError("every sensor is constant within its operating regime")
        self.sensors_ = [c for c, k in zip(sensors, keep, strict=True) if k]
        self.dropped_sensors_ = [c for c, k in zip(sensors, keep, strict=True) if not k]
        self.mean_ = mean[:, keep]
        self.std_ = np.where(std[:, keep] > 0, std[:, keep], 1.0)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "sensors_")
        regime = self._regime(X)
        values = X[self.sensors_].to_numpy(dtype=float)
        z = (values - self.mean_[regime]) / self.std_[regime]
        out = X.drop(columns=list(self.settings) + self.dropped_sensors_, errors="ignore").copy()
        out[self.sensors_] = z
        out["regime"] = regime
        return out
