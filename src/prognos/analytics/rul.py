"""Remaining useful life from sensor histories: gradient boosting plus conformal quantiles.

Two layers:

* :class:`RulEstimator` is a plain scikit-learn regressor on a feature matrix. It trains LightGBM
  on RUL capped at ``cap`` (piecewise-linear RUL) with K-fold cross-fitting over *groups* (units),
  so every training row gets an out-of-fold prediction from a model that never saw its unit. The
  prediction is the mean of the K fold models; the out-of-fold residuals, binned by prediction,
  calibrate every quantile level (cross-conformal; ``n_folds=1`` is plain split conformal on a
  held-out share of units).
* :class:`SensorRulModel` turns long telemetry (one row per unit and time step, operating-setting
  and sensor columns) into features -- operating regimes, per-regime normalisation, a linear
  health index, causal window features -- and fits a :class:`RulEstimator` on them.

Quantiles are of the *capped* RUL: a value equal to ``cap`` means "at least ``cap``".

Below the lowest quantile, forecasts claim the tail ``p0 * (t / t0) ** lower_tail_shape``
(default 2). A degrading engine fails when its damage crosses a limit, so failing at a small
fraction of the lowest quantile needs a far faster degradation than any seen, and the CDF starts
flatter than a line. On held-out C-MAPSS units the conformal tail is thinner still (FD001: no
unit's RUL below 0.75 of its 5 % quantile, where shape 2 claims 2.8 % and a line 3.75 %; see
``docs/bench/rul.md``), so 2 stays on the cautious side of what the data show.

    model = SensorRulModel(random_state=0).fit(run_to_failure_frame)
    forecast = model.forecast(history_of_one_unit, asset_id="engine-7", as_of=now)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from lightgbm import LGBMRegressor
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import GroupKFold, GroupShuffleSplit
from sklearn.utils.validation import check_is_fitted, validate_data

from prognos.analytics.cmapss import SETTINGS, run_to_failure_rul
from prognos.analytics.conformal import BinnedResiduals
from prognos.analytics.features import last_window_features, window_features
from prognos.analytics.regimes import RegimeNormalizer
from prognos.domain.forecast import DEFAULT_LEVELS, FailureForecast
from prognos.errors import ModelError

MODEL_NAME = "sensor-rul-lgbm-conformal"
MODEL_VERSION = "1"


class RulEstimator(RegressorMixin, BaseEstimator):
    """LightGBM RUL regressor with cross-conformal quantiles; ``fit(X, y, groups=units)``."""

    def __init__(
        self,
        cap: float | None = 125.0,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        subsample: float = 0.8,
        colsample_bytree: float = 0.25,
        max_bin: int = 63,
        reg_lambda: float = 1.0,
        n_folds: int = 5,
        calibration_size: float = 0.2,
        n_bins: int = 4,
        n_jobs: int | None = None,
        random_state: int | None = None,
    ):
        self.cap = cap
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.max_bin = max_bin
        self.reg_lambda = reg_lambda
        self.n_folds = n_folds
        self.calibration_size = calibration_size
        self.n_bins = n_bins
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _booster(self, seed: int) -> LGBMRegressor:
        return LGBMRegressor(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=self.subsample,
            subsample_freq=1 if self.subsample < 1 else 0,
            colsample_bytree=self.colsample_bytree,
            max_bin=self.max_bin,
            reg_lambda=self.reg_lambda,
            n_jobs=self.n_jobs or 1,
            random_state=seed,
            deterministic=True,
            force_col_wise=True,
            verbose=-1,
        )

    def _splits(self, n: int, groups: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
        n_groups = len(np.unique(groups))
        if n_groups < 2:
            return []
        if self.n_folds >= 2:
            k = min(self.n_folds, n_groups)
            return list(
                GroupKFold(k, shuffle=True, random_state=seed).split(np.empty(n), groups=groups)
            )
        gss = GroupShuffleSplit(1, test_size=self.calibration_size, random_state=seed)
        return list(gss.split(np.empty(n), groups=groups))

    def fit(self, X, y, groups=None) -> RulEstimator:
        """Fit on rows ``X`` with RUL ``y``; ``groups`` (unit ids) keep a unit's rows together."""
        X, y = validate_data(self, X, y, y_numeric=True)
        y = np.asarray(y, dtype=float)
        if self.cap is not None:
            y = np.minimum(y, self.cap)
        groups = np.arange(len(y)) if groups is None else np.asarray(groups)
        rng = np.random.default_rng(self.random_state)
        seed = int(rng.integers(2**31 - 1))
        splits = self._splits(len(y), groups, seed)
        self.models_, oof, seen = [], np.zeros(len(y)), np.zeros(len(y), dtype=bool)
        for i, (tr, ho) in enumerate(splits):
            model = self._booster(seed + i).fit(X[tr], y[tr])
            self.models_.append(model)
            oof[ho], seen[ho] = model.predict(X[ho]), True
        if not self.models_:  # one group: nothing to hold out; residuals are in-sample
            self.models_.append(self._booster(seed).fit(X, y))
            oof, seen = self.models_[0].predict(X), np.ones(len(y), dtype=bool)
        self.calibrated_ = bool(splits)
        self.y_min_, self.y_max_ = float(y.min()), float(y.max())
        oof = np.clip(oof, self.y_min_, self.y_max_)
        self.residuals_ = BinnedResiduals(
            oof[seen], y[seen] - oof[seen], groups[seen], n_bins=self.n_bins
        )
        self.oof_rmse_ = float(np.sqrt(np.mean((y[seen] - oof[seen]) ** 2)))
        return self

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self, "models_")
        X = validate_data(self, X, reset=False)
        pred = np.mean([m.predict(X) for m in self.models_], axis=0)
        return np.clip(pred, self.y_min_, self.y_max_)

    def predict_quantiles(self, X, levels: Sequence[float] = DEFAULT_LEVELS) -> np.ndarray:
        """Quantiles of RUL per row, shape (n_rows, len(levels)), monotone in the level."""
        pred = self.predict(X)
        q = pred[:, None] + self.residuals_.offsets(pred, levels)
        return np.maximum.accumulate(np.clip(q, self.y_min_, self.y_max_), axis=1)

    def predict_interval(self, X, coverage: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper ends of the central ``coverage`` interval."""
        a = (1.0 - coverage) / 2.0
        q = self.predict_quantiles(X, (a, 1.0 - a))
        return q[:, 0], q[:, 1]


class SensorRulModel(BaseEstimator):
    """RUL of units from long telemetry: regimes, normalisation, window features, RulEstimator.

    ``fit(frame)`` takes run-to-failure histories (RUL of each row = its unit's last time minus
    its time) or ``fit(frame, rul)`` with explicit RUL per row. Rows need ``unit_col``,
    ``time_col``, the ``settings`` columns (may be empty) and sensors (default: every other
    numeric column).
    """

    def __init__(
        self,
        unit_col: str = "unit",
        time_col: str = "cycle",
        settings: Sequence[str] = SETTINGS,
        sensors: Sequence[str] | None = None,
        cap: float = 125.0,
        windows: Sequence[int] = (5, 10, 20, 30),
        slope_windows: Sequence[int] = (10, 20, 30),
        spans: Sequence[float] = (10.0, 30.0),
        baseline: int = 10,
        health_index: bool = True,
        max_regimes: int = 8,
        estimator: RulEstimator | None = None,
        lower_tail_shape: float = 2.0,
        random_state: int | None = None,
    ):
        self.unit_col = unit_col
        self.time_col = time_col
        self.settings = settings
        self.sensors = sensors
        self.cap = cap
        self.windows = windows
        self.slope_windows = slope_windows
        self.spans = spans
        self.baseline = baseline
        self.health_index = health_index
        self.max_regimes = max_regimes
        self.estimator = estimator
        self.lower_tail_shape = lower_tail_shape
        self.random_state = random_state

    def _sorted(self, frame: pd.DataFrame) -> pd.DataFrame:
        f = frame.copy()
        if self.unit_col not in f.columns:
            f[self.unit_col] = 0
        if self.time_col not in f.columns:
            f[self.time_col] = f.groupby(self.unit_col).cumcount() + 1
        f = f.sort_values([self.unit_col, self.time_col], kind="stable")
        # telemetry has gaps: carry each unit's last reading forward (first one back)
        cols = [c for c in f.columns if c not in (self.unit_col, self.time_col)]
        cols = [c for c in cols if pd.api.types.is_numeric_dtype(f[c])]
        if cols and f[cols].isna().any().any():
            g = f.groupby(self.unit_col, sort=False)[cols]
            f[cols] = g.ffill()
            f[cols] = f[cols].fillna(f.groupby(self.unit_col, sort=False)[cols].bfill())
        return f

    def _channels(self, norm: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        # a sensor a unit never reported sits at its regime's mean (0 after normalisation)
        values = np.nan_to_num(norm[self.normalizer_.sensors_].to_numpy(dtype=float), nan=0.0)
        names = list(self.normalizer_.sensors_)
        if self.health_index_ is not None:
            values = np.column_stack([values, self.health_index_.predict(values)])
            names.append("health_index")
        return values, names

    def features(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Feature rows for ``frame`` sorted by unit and time, with the unit and time columns."""
        check_is_fitted(self, "estimator_")
        f = self._sorted(frame)
        norm = self.normalizer_.transform(f)
        values, names = self._channels(norm)
        return self._window(values, f, names)

    def _window(self, values: np.ndarray, f: pd.DataFrame, names: list[str]) -> pd.DataFrame:
        feats = window_features(
            values,
            f[self.unit_col].to_numpy(),
            f[self.time_col].to_numpy(dtype=float),
            names,
            windows=self.windows,
            slope_windows=self.slope_windows,
            spans=self.spans,
            baseline=self.baseline,
        )
        feats.insert(0, self.time_col, f[self.time_col].to_numpy())
        feats.insert(0, self.unit_col, f[self.unit_col].to_numpy())
        return feats

    def fit(self, frame: pd.DataFrame, rul: Sequence[float] | None = None) -> SensorRulModel:
        if not isinstance(frame, pd.DataFrame) or frame.empty:
            raise ModelError("SensorRulModel needs a non-empty DataFrame of unit histories")
        f = self._sorted(frame)
        if rul is None:
            y = run_to_failure_rul(f, self.unit_col, self.time_col)
        else:
            y = pd.Series(np.asarray(rul, dtype=float), index=frame.index).loc[f.index].to_numpy()
        y = np.minimum(y, self.cap)
        sensors = self.sensors
        if sensors is None:
            skip = {self.unit_col, self.time_col, *self.settings}
            sensors = [
                c for c in f.columns if c not in skip and pd.api.types.is_numeric_dtype(f[c])
            ]
        self.normalizer_ = RegimeNormalizer(
            settings=self.settings,
            sensors=sensors,
            max_regimes=self.max_regimes,
            random_state=self.random_state,
        ).fit(f)
        norm = self.normalizer_.transform(f)
        self.health_index_ = None
        if self.health_index:
            raw = norm[self.normalizer_.sensors_].to_numpy(dtype=float)
            self.health_index_ = Ridge(alpha=1.0).fit(raw, y)
        values, names = self._channels(norm)
        feats = self._window(values, f, names)
        self.feature_names_ = [c for c in feats.columns if c not in (self.unit_col, self.time_col)]
        est = clone(self.estimator) if self.estimator is not None else RulEstimator()
        est.set_params(cap=self.cap)
        if self.random_state is not None:
            est.set_params(random_state=self.random_state)
        self.estimator_ = est.fit(
            feats[self.feature_names_].to_numpy(), y, groups=feats[self.unit_col].to_numpy()
        )
        return self

    def last_features(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``features`` at each unit's last row only (index: unit, sorted), for all units in one
        pass: what scoring needs, without the window features of every earlier row."""
        check_is_fitted(self, "estimator_")
        f = self._sorted(frame)
        values, names = self._channels(self.normalizer_.transform(f))
        units = f[self.unit_col].to_numpy()
        feats = last_window_features(
            values,
            units,
            f[self.time_col].to_numpy(dtype=float),
            names,
            windows=self.windows,
            slope_windows=self.slope_windows,
            spans=self.spans,
            baseline=self.baseline,
        )
        last = np.r_[units[1:] != units[:-1], True] if len(units) else np.zeros(0, dtype=bool)
        feats.insert(0, self.time_col, f[self.time_col].to_numpy()[last])
        feats.index = pd.Index(units[last], name=self.unit_col)
        return feats

    def _last_rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        return self.last_features(frame)

    def predict_last(self, frame: pd.DataFrame) -> pd.Series:
        """Point RUL of each unit at its last row, indexed by unit."""
        last = self._last_rows(frame)
        return pd.Series(self.estimator_.predict(last[self.feature_names_].to_numpy()), last.index)

    def predict_quantiles_last(
        self, frame: pd.DataFrame, levels: Sequence[float] = DEFAULT_LEVELS
    ) -> pd.DataFrame:
        """RUL quantiles of each unit at its last row: index unit, one column per level."""
        last = self._last_rows(frame)
        q = self.estimator_.predict_quantiles(last[self.feature_names_].to_numpy(), levels)
        return pd.DataFrame(q, index=last.index, columns=list(levels))

    def forecast(
        self,
        history: pd.DataFrame,
        asset_id: str,
        as_of: datetime | None = None,
        levels: Sequence[float] = DEFAULT_LEVELS,
        time_unit: str = "cycles",
    ) -> FailureForecast:
        """A :class:`FailureForecast` from one unit's history (every row is that unit)."""
        h = history.drop(columns=[self.unit_col], errors="ignore")
        q = self.predict_quantiles_last(h, levels).iloc[0]
        return FailureForecast(
            asset_id,
            as_of or datetime.now(UTC),
            tuple(levels),
            tuple(float(v) for v in q.to_numpy()),
            time_unit=time_unit,
            model=MODEL_NAME,
            model_version=MODEL_VERSION,
            extra={
                "capped_at": self.cap,
                "regimes": self.normalizer_.n_regimes_,
                "history_length": len(h),
                "calibrated": self.estimator_.calibrated_,
            },
            lower_tail_shape=self.lower_tail_shape,
        )
