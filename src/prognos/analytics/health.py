"""Health now: how far an asset's recent readings sit from its own healthy period.

``HealthModel`` is fitted per asset type (``health_fit.fit_health`` from the type's lives, or
``fit`` on rows known to be healthy). It learns what is shared by the type: operating regimes
(KMeans over the ``settings`` columns: flight conditions, a conveyor's load on and off shift),
each channel's pooled healthy centre and spread per regime, each channel's resolution (the
smallest step its readings take), which channels carry information (at least ``min_distinct``
values and a spread), which drift with wear (``explained_``: what the failure forecast speaks
for), and an anomaly detector (``anomaly``) chosen by validation.

Each asset is then scored against **its own baseline** (``baseline``): the median and scaled MAD
of each channel, per regime, over its current life's first ``baseline_rows`` readings and all
of its first ``baseline_span_hours`` (module ``baseline_rows``: a daily cycle is inside it).
A replaced part starts a new life, so its baseline resets; until a life has
``min_baseline_rows`` readings the type's pooled baseline of a new part stands in, and until it
spans the hours each own spread is widened by the type's. A spread is never below
``spread_floor`` times the type's pooled spread nor below one resolution step, so a nearly
constant sensor that moves by one step is not "z -19".

A window of the last ``window`` readings is summarised by its mean z-vector, leaving out the
``settle_rows`` readings after each regime change (a machine starting its shift is not
unhealthy). Its detector score (100 up to the healthy reference distance, then falling) is the
*anomaly score*; channels whose window-mean ``|z|`` reaches ``z_threshold`` are anomalies, the
channels' shares of the distance the drivers. How that becomes the health score, consistent
with the failure forecast, is ``health_rule`` (docs/health.md).

As a scikit-learn outlier detector (pooled baseline), ``predict`` flags single readings beyond
the healthy ``reference_quantile`` of per-reading distance and ``score_samples`` is minus it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from prognos.analytics.anomaly import ZScoreDetector, make_detector
from prognos.analytics.baseline_rows import HOUR_US, first_span, row_times
from prognos.analytics.health_rule import RuleParams
from prognos.analytics.health_stats import (
    last_means,
    own_centres,
    resolution,
    robust_centre,
    rolling_means,
)
from prognos.analytics.regimes import find_regimes
from prognos.domain.forecast import HealthScore
from prognos.errors import ModelError


@dataclass(frozen=True)
class Baseline:
    """One asset's healthy centre and spread per regime (over the model's input channels)."""

    center: np.ndarray
    spread: np.ndarray
    own: bool  # False: the type's pooled baseline of a new part
    rows: int
    complete: bool = True  # False: the life does not span the baseline yet (spreads widened)

    @property
    def label(self) -> str:
        """What a score's ``extra.baseline`` says of it."""
        if not self.own:
            return "type (new part)"
        return "own" if self.complete else "own (partial, widened)"


class HealthModel(OutlierMixin, BaseEstimator):
    """Robust z-scores against each asset's own healthy period, scored by an anomaly detector."""

    def __init__(
        self,
        settings: Sequence[str] = (),
        window: int = 10,
        z_threshold: float = 4.0,
        reference_quantile: float = 0.99,
        detector: str = "robust-z",
        baseline_rows: int = 50,
        min_baseline_rows: int = 10,
        settle_rows: int = 2,
        spread_floor: float = 0.5,
        min_distinct: int = 5,
        rule: RuleParams | None = None,
        random_state: int | None = 0,
        baseline_span_hours: float = 24.0,
        baseline_max_rows: int = 1000,
    ):
        self.settings = settings
        self.window = window
        self.z_threshold = z_threshold
        self.reference_quantile = reference_quantile
        self.detector = detector
        self.baseline_rows = baseline_rows
        self.min_baseline_rows = min_baseline_rows
        self.settle_rows = settle_rows
        self.spread_floor = spread_floor
        self.min_distinct = min_distinct
        self.rule = rule
        self.random_state = random_state
        self.baseline_span_hours = baseline_span_hours
        self.baseline_max_rows = baseline_max_rows

    def __setstate__(self, state):
        # models pickled before the baseline spanned time take the defaults: the fix applies to
        # them without training again
        state.setdefault("baseline_span_hours", 24.0)
        state.setdefault("baseline_max_rows", 1000)
        super().__setstate__(state)

    # -- rows -------------------------------------------------------------------------------------
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

    def regimes(self, s: np.ndarray) -> np.ndarray:
        if self.kmeans_ is None or not len(s):
            return np.zeros(len(s), dtype=int)
        return self.kmeans_.predict((s - self.kmeans_.mean_) / self.kmeans_.scale_)

    def settled(self, r: np.ndarray) -> np.ndarray:
        """Rows not within ``settle_rows`` readings after a change of regime."""
        ok = np.ones(len(r), dtype=bool)
        for k in range(1, self.settle_rows + 1):
            ok[k:] &= r[k:] == r[:-k]
        return ok

    @property
    def n_regimes(self) -> int:
        return 1 if self.kmeans_ is None else int(self.kmeans_.n_clusters)

    # -- baselines ------------------------------------------------------------------------------
    def _floor(self) -> np.ndarray:
        return np.maximum(self.spread_floor * self.spread_, self.resolution_[None, :])

    def baseline(self, life, times=None) -> Baseline:
        """An asset's own baseline from its current life (``life``, rows in time order: all of
        them, or at least its first ``baseline_span_hours`` and ``baseline_rows``); ``times``:
        int64 microseconds of the rows, else ``life``'s DatetimeIndex, else the count alone."""
        check_is_fitted(self, "center_")
        if not len(life):
            return self.pooled()
        return self.baselines_many(life, np.zeros(len(life), dtype=int), times)[0]

    def baseline_cut(self, times, units) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the rows making each group's baseline (rows grouped by ``units``, in
        time order; ``times`` int64 microseconds or None) and whether each is complete."""
        u = np.asarray(units)
        bounds = np.flatnonzero(np.r_[True, u[1:] != u[:-1], True])
        span = int(round(float(self.baseline_span_hours) * HOUR_US))
        return first_span(times, bounds, self.baseline_rows, span, int(self.baseline_max_rows))

    def baselines_many(self, lives, units: Sequence, times=None) -> dict[Any, Baseline]:
        """``baseline`` of many assets in one pass: ``lives`` holds each asset's readings of its
        current life (all, or at least its baseline's), grouped by ``units`` and in time order;
        ``times`` as ``baseline``'s. The cut (``baseline_rows``) comes first, so only the
        baseline's rows are validated."""
        check_is_fitted(self, "center_")
        u = np.asarray(units)
        if not len(u):
            return {}
        if times is None:
            times = row_times(lives)
        pos, complete = self.baseline_cut(times, u)
        early = lives.iloc[pos] if hasattr(lives, "iloc") else np.asarray(lives)[pos]
        return self.own_baselines(early, u[pos], complete)

    def own_baselines(self, early, units: Sequence, complete=None) -> dict[Any, Baseline]:
        """Own baselines from exactly these rows (``early``, grouped by ``units``, in time
        order); a group not ``complete`` has each spread widened by the type's (its centre may
        be off by that much: it has not seen the whole cycle yet)."""
        u = np.asarray(units)
        if not len(u):
            return {}
        values, s = self._split(early, reset=False)
        r = self.regimes(s)
        bounds = np.flatnonzero(np.r_[True, u[1:] != u[:-1], True])
        group = np.repeat(np.arange(len(bounds) - 1), np.diff(bounds))
        ok = np.ones(len(r), dtype=bool)  # settled rows, within each asset
        for k in range(1, self.settle_rows + 1):
            ok[k:] &= (r[k:] == r[:-k]) | (group[k:] != group[:-k])
        counted = np.bincount(group[ok], minlength=len(bounds) - 1)  # settled rows per asset
        own = counted >= self.min_baseline_rows
        center = self.center_[None].repeat(len(own), 0)
        spread = self.spread_[None].repeat(len(own), 0)
        for k in range(self.n_regimes):
            rows = ok & (r == k)
            own_centres(
                values, group, rows, own, self.min_baseline_rows, center[:, k], spread[:, k]
            )
        done = np.ones(len(own), dtype=bool) if complete is None else np.asarray(complete)
        spread[~done] = spread[~done] + self.spread_
        spread = np.maximum(spread, self._floor())
        out: dict[Any, Baseline] = {}
        for g, a in enumerate(bounds[:-1]):
            out[u[a]] = (
                Baseline(center[g], spread[g], True, int(counted[g]), bool(done[g]))
                if own[g]
                else self.pooled()
            )
        return out

    def pooled(self) -> Baseline:
        """The type's baseline of a new part."""
        return Baseline(self.center_, np.maximum(self.spread_, self._floor()), False, 0)

    def z(self, X, baseline: Baseline | None = None) -> tuple[np.ndarray, np.ndarray]:
        """z-scores of the scored channels and regimes of ``X``'s rows."""
        b = baseline or self.pooled()
        values, s = self._split(X, reset=False)
        r = self.regimes(s)
        z = (values - b.center[r]) / b.spread[r]
        return z[:, self.keep_], r

    # -- fitting on healthy rows ----------------------------------------------------------------
    def fit(self, X, y=None) -> HealthModel:
        """Fit on rows known to be healthy (no lives: one pooled baseline, every channel
        unexplained); ``health_fit.fit_health`` fits from lives instead."""
        values, s = self._split(X, reset=True)
        self.fit_shared(values, s)
        z = (values - self.center_[self._r]) / self.pooled().spread[self._r]
        z = z[:, self.keep_]
        half = max(len(z) // 2, 1)
        windows = rolling_means(z[half:], self.window) if len(z) > half else rolling_means(z, 1)
        self.set_detectors(z[:half], windows, explained=[])
        return self

    def fit_shared(self, values: np.ndarray, s: np.ndarray) -> None:
        """Regimes, pooled centres and spreads, resolutions and the scored channels."""
        self.kmeans_ = find_regimes(s, random_state=self.random_state) if s.shape[1] else None
        r = self.regimes(s)
        self._r = r
        p = values.shape[1]
        self.center_, self.spread_ = np.zeros((self.n_regimes, p)), np.ones((self.n_regimes, p))
        for k in range(self.n_regimes):
            rows = values[r == k] if (r == k).any() else values
            self.center_[k], self.spread_[k] = robust_centre(rows)
        self.resolution_ = np.array([resolution(values[:, j]) for j in range(p)])
        distinct = np.array([len(np.unique(values[:, j])) for j in range(p)])
        varies = self.spread_.max(axis=0) > 0
        self.keep_ = (distinct >= self.min_distinct) & varies
        if not self.keep_.any():  # a few coarse channels only: score what varies, else all
            self.keep_ = varies if varies.any() else np.ones(p, dtype=bool)
        names = getattr(self, "feature_names_in_", [f"x{i}" for i in range(p)])
        self.channels_ = [str(c) for c, k in zip(names, self.keep_, strict=True) if k]
        self.dropped_ = [str(c) for c, k in zip(names, self.keep_, strict=True) if not k]
        self.spread_ = np.where(self.spread_ > 0, self.spread_, 1.0)

    def set_detectors(
        self,
        healthy_z: np.ndarray,
        reference_windows: np.ndarray,
        explained: list[str],
        detector: str | None = None,
    ) -> None:
        """The detector on every scored channel and on those the forecast does not explain."""
        name = detector or self.detector
        self.detector_ = make_detector(name).fit(healthy_z)
        self.detector_.calibrate(reference_windows, self.reference_quantile)
        self.explained_ = [c for c in self.channels_ if c in set(explained)]
        self.free_ = np.array([c not in set(explained) for c in self.channels_], dtype=bool)
        self.free_detector_ = make_detector(name).fit(healthy_z[:, self.free_])
        self.free_detector_.calibrate(reference_windows[:, self.free_], self.reference_quantile)
        # the per-reading outlier face: Mahalanobis distance of single rows, pooled baseline
        self.rows_ = ZScoreDetector().fit(healthy_z)
        self.precision_ = self.rows_.precision_
        self.offset_ = -float(np.quantile(self.rows_.distance(healthy_z), self.reference_quantile))
        self.window_reference_ = self.detector_.reference_

    # -- the scikit-learn outlier face --------------------------------------------------------------
    def score_samples(self, X) -> np.ndarray:
        """Minus the Mahalanobis distance of each reading: lower is less healthy."""
        check_is_fitted(self, "detector_")
        return -self.rows_.distance(self.z(X)[0])

    def decision_function(self, X) -> np.ndarray:
        return self.score_samples(X) - self.offset_

    def predict(self, X) -> np.ndarray:
        return np.where(self.decision_function(X) >= 0, 1, -1)

    # -- the platform's face ------------------------------------------------------------------------
    def window_z(self, recent, baseline: Baseline | None = None) -> np.ndarray:
        """Mean z-vector of the last ``window`` settled readings of ``recent``."""
        z, r = self.z(recent, baseline)
        ok = self.settled(r)
        rows = z[ok][-max(self.window, 1) :] if ok.any() else z[-max(self.window, 1) :]
        return rows.mean(axis=0)

    def health(
        self,
        recent: pd.DataFrame,
        asset_id: str,
        as_of: datetime | None = None,
        baseline: Baseline | None = None,
    ) -> HealthScore:
        """HealthScore of one asset from its recent readings (rows in time order), against
        ``baseline`` (default: the type's pooled one). The score is the anomaly score; apply
        ``health_rule.consistent`` with the asset's failure forecast for the health score."""
        check_is_fitted(self, "detector_")
        if len(recent) == 0:
            raise ModelError("no recent readings to score", hint="send telemetry first")
        units = np.full(len(recent), asset_id, dtype=object)
        baselines = {asset_id: baseline} if baseline is not None else None
        return self.health_many(recent, units, None if as_of is None else [as_of], baselines)[0]

    def health_many(
        self,
        recent,
        units: Sequence,
        as_of: Sequence[datetime] | None = None,
        baselines: dict[str, Baseline] | None = None,
    ) -> list[HealthScore]:
        """``health`` of many assets in one pass: rows grouped by ``units`` (the asset id of
        each row), each group in time order; one HealthScore per group, in order. Validation,
        regimes and the detectors run once for all groups (the fleet's scoring path)."""
        check_is_fitted(self, "detector_")
        u = np.asarray(units)
        if len(u) != len(recent):
            raise ModelError(f"{len(recent)} rows of readings but {len(u)} unit labels")
        if not len(u):
            return []
        bounds = np.flatnonzero(np.r_[True, u[1:] != u[:-1], True])
        starts, ends = bounds[:-1], bounds[1:]
        group = np.repeat(np.arange(len(starts)), ends - starts)
        values, s = self._split(recent, reset=False)
        r = self.regimes(s)
        pooled = self.pooled()
        chosen = [(baselines or {}).get(str(u[a])) or pooled for a in starts]
        centers = np.stack([b.center for b in chosen])  # (groups, regimes, channels)
        spreads = np.stack([b.spread for b in chosen])
        z = ((values - centers[group, r]) / spreads[group, r])[:, self.keep_]
        ok = np.ones(len(r), dtype=bool)  # settled rows, within each group
        for k in range(1, self.settle_rows + 1):
            ok[k:] &= (r[k:] == r[:-k]) | (group[k:] != group[:-k])
        zbar = last_means(z, ok, group, len(starts), max(self.window, 1))
        scores = self.detector_.score(zbar)
        frees = self.free_detector_.score(zbar[:, self.free_]) if self.free_.any() else None
        contribs = self.detector_.contributions(zbar)
        times = self._times(recent, ends, as_of)
        rule = self.rule.as_dict() if self.rule is not None else None  # once, not per asset
        return [
            self._score(
                str(u[a]), times[g], zbar[g], scores[g], frees, g, contribs[g], chosen[g], rule
            )
            for g, a in enumerate(starts)
        ]

    @staticmethod
    def _times(recent, ends: np.ndarray, as_of: Sequence[datetime] | None) -> list[datetime]:
        if as_of is not None:
            return list(as_of)
        out = []
        index = recent.index if isinstance(recent, pd.DataFrame) else None
        for e in ends:
            last = index[e - 1] if index is not None else None
            out.append(
                last.to_pydatetime() if isinstance(last, pd.Timestamp) else datetime.now(UTC)
            )
        return out

    def _score(self, asset_id, when, zbar, score, frees, g, contrib, baseline, rule) -> HealthScore:
        score = float(score)
        free = float(frees[g]) if frees is not None else 100.0
        total = float(contrib.sum())
        share = contrib / total if total > 0 else np.zeros_like(contrib)
        drivers = {  # the shares' loop in numpy, the few that stay in Python
            self.channels_[j]: round(float(share[j]), 4)
            for j in np.argsort(-contrib, kind="stable")
            if share[j] >= 0.01
        }
        names = self.channels_
        flagged = np.flatnonzero(np.abs(zbar) >= self.z_threshold).tolist()
        anomalies = {names[j]: round(float(zbar[j]), 3) for j in flagged}
        extra = {
            "model": self.detector_.name,
            "anomaly_score": round(score, 2),
            "unexplained_score": round(free, 2),
            "explained": list(self.explained_),
            "baseline": baseline.label,
        }
        if rule is not None:
            extra["rule"] = dict(rule)
        return HealthScore(asset_id, when, round(score, 2), drivers, anomalies, extra)
