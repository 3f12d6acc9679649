"""P(failure within H): a classifier on window features, for types with labelled failures.

Where readings sit beside labelled failure events but a remaining-life regression is a poor
fit (tabular sets, few or short lives, failures driven by a combination of conditions rather
than a slow drift), the question the planner and the alarm rule ask can be learnt directly:
will this asset fail within the next ``horizon`` time units? Each row of a life is labelled 1
when a failure follows it within ``horizon``, 0 when the asset ran on for longer than that,
and unknown (dropped) near the end of a life that did not end in failure.

Features are the causal window features the sensor RUL path uses (``features``): a row looks
exactly like the last row of a history cut there, so training rows and scoring an asset now
agree. Two estimators are tried (LightGBM gradient boosting and logistic regression), both fitted with
balanced class weights (failures are rare rows) and their odds corrected back to the true
prevalence, so the probability served is a probability and not a balanced score. The model
says what it knows as a ``FailureForecast`` whose CDF at ``horizon`` is that probability, with
a constant hazard elsewhere, so it feeds every consumer of forecasts (the probability alarm
rule among them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from prognos.analytics.features import last_window_features, window_features
from prognos.domain import FailureForecast
from prognos.domain.forecast import DEFAULT_LEVELS
from prognos.errors import ModelError

MODEL_NAME = "failure-within-classifier"
KINDS = ("gbm", "logistic")
P_MIN, P_MAX = 1e-4, 1 - 1e-4  # a probability served is never exactly 0 or 1


def within_labels(rul: np.ndarray, failed: np.ndarray, horizon: float) -> np.ndarray:
    """1 where a failure follows within ``horizon``, 0 where the asset ran on longer, NaN
    where a life ended without failure sooner than ``horizon`` after the row (unknown)."""
    rul = np.asarray(rul, dtype=float)
    failed = np.asarray(failed, dtype=bool)
    y = np.where(rul <= horizon, 1.0, 0.0)
    return np.where(~failed & (rul <= horizon), np.nan, y)


def estimator(kind: str, random_state: int = 0) -> BaseEstimator:
    """The two candidates, both with balanced class weights."""
    if kind == "gbm":
        from lightgbm import LGBMClassifier  # as the RUL model: one thread, deterministic

        return LGBMClassifier(
            n_estimators=150, learning_rate=0.05, num_leaves=15, min_child_samples=20,
            reg_lambda=1.0, class_weight="balanced", n_jobs=1, random_state=random_state,
            deterministic=True, force_col_wise=True, verbose=-1,
        )  # fmt: skip
    if kind == "logistic":
        return make_pipeline(
            SimpleImputer(), StandardScaler(),
            LogisticRegression(C=0.5, max_iter=2000, class_weight="balanced"),
        )  # fmt: skip
    raise ModelError(f"unknown classifier {kind!r}", hint=f"use {' or '.join(KINDS)}")


def prior_corrected(p_balanced: np.ndarray, prevalence: float) -> np.ndarray:
    """Probabilities of a model fitted with balanced class weights, back at the true
    prevalence (the odds scale by positives / negatives)."""
    p = np.clip(np.asarray(p_balanced, dtype=float), 1e-9, 1 - 1e-9)
    odds = p / (1 - p) * (prevalence / (1 - prevalence))
    return odds / (1 + odds)


class FailureWithinModel(ClassifierMixin, BaseEstimator):
    """P(failure within ``horizon``) of each unit at its last row, from window features of
    ``channels`` (rows: ``unit``, ``cycle``, channels; sorted by unit, then cycle)."""

    def __init__(
        self,
        horizon: float = 30.0,
        channels: Sequence[str] = (),
        kind: str = "gbm",
        windows: Sequence[int] = (5, 10, 20, 30),
        slope_windows: Sequence[int] = (10, 20, 30),
        spans: Sequence[float] = (10.0, 30.0),
        baseline: int = 10,
        random_state: int = 0,
    ):
        self.horizon = horizon
        self.channels = channels
        self.kind = kind
        self.windows = windows
        self.slope_windows = slope_windows
        self.spans = spans
        self.baseline = baseline
        self.random_state = random_state

    def _kw(self) -> dict:
        return dict(
            windows=self.windows, slope_windows=self.slope_windows, spans=self.spans,
            baseline=self.baseline,
        )  # fmt: skip

    def features(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Window features of every row (training), in the frame's order."""
        f = frame
        return window_features(
            f[list(self.channels)].to_numpy(dtype=float), f["unit"].to_numpy(),
            f["cycle"].to_numpy(dtype=float), list(self.channels), **self._kw(),
        )  # fmt: skip

    def fit_features(self, X: pd.DataFrame, y: np.ndarray) -> FailureWithinModel:
        """Fit on feature rows ``X`` (``features``) with labels ``y`` (0/1)."""
        y = np.asarray(y, dtype=int)
        if len(np.unique(y)) < 2:
            raise ModelError("the labelled rows hold one class only: nothing to tell apart")
        self.feature_names_ = list(X.columns)
        self.prevalence_ = float(y.mean())
        self.estimator_ = clone(estimator(self.kind, self.random_state)).fit(X.to_numpy(), y)
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba_features(self, X: pd.DataFrame) -> np.ndarray:
        """P(failure within ``horizon``) of feature rows, at the true prevalence."""
        raw = self.estimator_.predict_proba(X[self.feature_names_].to_numpy())[:, 1]
        return np.clip(prior_corrected(raw, self.prevalence_), P_MIN, P_MAX)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = self.predict_proba_features(X)
        return np.column_stack([1 - p, p])

    def proba_last(self, frame: pd.DataFrame) -> pd.Series:
        """P(failure within ``horizon``) of each unit at its last row, indexed by unit."""
        f = frame.sort_values(["unit", "cycle"], kind="stable")
        units = f["unit"].to_numpy()
        feats = last_window_features(
            f[list(self.channels)].to_numpy(dtype=float), units,
            f["cycle"].to_numpy(dtype=float), list(self.channels), **self._kw(),
        )  # fmt: skip
        last = np.r_[units[1:] != units[:-1], True] if len(units) else np.zeros(0, dtype=bool)
        return pd.Series(self.predict_proba_features(feats), index=units[last])

    def forecast(
        self, p: float, asset_id: str, as_of: datetime, time_unit: str, age: float
    ) -> FailureForecast:
        """``p`` = P(failure within ``horizon``) as a distribution of the time to failure:
        constant hazard, with the CDF exactly ``p`` at ``horizon`` (a knot)."""
        return within_forecast(p, self.horizon, asset_id, as_of, time_unit, age, self.kind)


def within_forecast(
    p: float, horizon: float, asset_id: str, as_of: datetime, time_unit: str, age: float,
    kind: str = "",
) -> FailureForecast:  # fmt: skip
    """A FailureForecast with CDF ``p`` at ``horizon`` and a constant hazard: what a
    classifier's one probability says about the whole distribution, and no more."""
    p = float(np.clip(p, P_MIN, P_MAX))
    rate = -np.log1p(-p) / horizon
    levels = sorted({*DEFAULT_LEVELS, round(p, 6)} - {0.0, 1.0})
    levels = [q for q in levels if q == round(p, 6) or abs(q - p) > 1e-4]
    values = [horizon if q == round(p, 6) else -np.log1p(-q) / rate for q in levels]
    return FailureForecast(
        asset_id, as_of, tuple(levels), tuple(values), time_unit, MODEL_NAME, "", None,
        extra={"p_fail_within": p, "horizon": horizon, "classifier": kind, "age": age},
    )  # fmt: skip


def out_of_fold(
    X: pd.DataFrame, y: np.ndarray, groups: np.ndarray, kind: str, folds: int, seed: int = 0
) -> np.ndarray:
    """Out-of-fold probabilities: each row scored by a model fitted without its group."""
    oof = np.full(len(y), np.nan)
    for tr, te in GroupKFold(n_splits=folds).split(X, y, groups):
        if len(np.unique(y[tr])) < 2:
            continue
        m = FailureWithinModel(kind=kind, random_state=seed).fit_features(X.iloc[tr], y[tr])
        oof[te] = m.predict_proba_features(X.iloc[te])
    return oof


def scores(y: np.ndarray, risk: np.ndarray) -> dict[str, float | None]:
    """AUC (rows where ``risk`` is known) and, for probabilities, the Brier score."""
    ok = np.isfinite(risk)
    if ok.sum() < 2 or len(np.unique(y[ok])) < 2:
        return {"auc": None}
    return {"auc": float(roc_auc_score(y[ok], risk[ok]))}


def brier(y: np.ndarray, p: np.ndarray) -> float | None:
    ok = np.isfinite(p)
    return float(brier_score_loss(y[ok], p[ok])) if ok.any() else None
