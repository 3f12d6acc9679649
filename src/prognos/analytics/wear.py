"""Wear trends: when will a measured wear quantity reach its failure threshold?

A chain elongates until it reaches 3 %; a brake pad thins to its minimum. The wear is modelled as
``w(t) = a + b * g(t)`` with ``g(t) = t`` (``form="linear"``) or ``g(t) = t**p`` (``"power"``,
``p`` on a grid from 0.25 to 4), fitted as a Bayesian linear regression for each ``p``
(normal-inverse-gamma posterior, near-flat prior) and mixed over ``p`` by its profile likelihood.
Posterior draws of the trend give draws of the time the *trend* crosses the threshold; their
quantiles are the forecast. Measurement noise enters through the posterior of the trend, not as
failure by a single noisy reading.

Below the lowest quantile the forecast's CDF is ``p0 * (t / t0) ** lower_tail_shape`` (default 2).
Reaching the threshold at a small fraction of ``t0`` needs a wear rate far above the trend's, and
with a normal posterior of the rate that probability falls faster than any power of ``t``; the
posterior knows nothing of a rate that changes (a chain whose lubrication fails), so the tail is
kept at a cautious power 2 rather than read off the draws.

    model = WearTrendModel(threshold=3.0, form="linear", random_state=0).fit(t[:, None], wear)
    forecast = model.forecast("chain-12", now, time_unit="hours")
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from prognos.domain.forecast import DEFAULT_LEVELS, FailureForecast
from prognos.errors import ModelError

_POWERS = np.exp(np.linspace(np.log(0.25), np.log(4.0), 281))  # 1 % steps


class WearTrendModel(RegressorMixin, BaseEstimator):
    """Bayesian trend of wear vs time; ``X`` is time (one column, or any design for "linear")."""

    def __init__(
        self,
        threshold: float | None = None,
        increasing: bool | None = None,
        form: str = "linear",
        prior_precision: float = 1e-6,
        n_samples: int = 4000,
        lower_tail_shape: float = 2.0,
        random_state: int | None = None,
    ):
        self.threshold = threshold
        self.increasing = increasing
        self.form = form
        self.prior_precision = prior_precision
        self.n_samples = n_samples
        self.lower_tail_shape = lower_tail_shape
        self.random_state = random_state

    @staticmethod
    def _posterior(G: np.ndarray, y: np.ndarray, prior_precision: float) -> dict:
        """Normal-inverse-gamma posterior of (intercept, slopes) on standardised columns ``G``."""
        g_mean = G.mean(axis=0)
        g_scale = np.where(G.std(axis=0) > 0, G.std(axis=0), 1.0)
        y_mean = float(y.mean())
        Z = np.column_stack([np.ones(len(y)), (G - g_mean) / g_scale])
        yc = y - y_mean
        cov = np.linalg.inv(Z.T @ Z + prior_precision * np.eye(Z.shape[1]))
        mean = cov @ Z.T @ yc
        ssr = float(np.sum((yc - Z @ mean) ** 2))
        a0 = b0 = 1e-3
        b = b0 + 0.5 * max(ssr, 0.0) + 1e-12 * max(1.0, float(yc @ yc))
        return {"g_mean": g_mean, "g_scale": g_scale, "y_mean": y_mean, "cov": cov,
                "mean": mean, "a": a0 + len(y) / 2.0, "b": b, "ssr": ssr}  # fmt: skip

    def fit(self, X, y) -> WearTrendModel:
        X, y = validate_data(self, X, y, y_numeric=True)
        y = np.asarray(y, dtype=float)
        if self.form not in ("linear", "power"):
            raise ValueError(f"form must be 'linear' or 'power', not {self.form!r}")
        if self.form == "power":
            if X.shape[1] != 1 or np.any(X < 0):
                raise ValueError("form='power' needs one non-negative time column")
            powers = _POWERS
        else:
            powers = np.array([1.0])
        fits = [self._posterior(X**p, y, self.prior_precision) for p in powers]
        # exponent posterior on the grid (flat in log p): marginal likelihood ~ SSR^(-(n-2)/2)
        logw = np.array([-0.5 * (len(y) - 2) * np.log(max(f["ssr"], 1e-300)) for f in fits])
        w = np.exp(logw - logw.max())
        self.powers_, self.power_weights_ = powers.astype(float), w / w.sum()
        self.fits_ = fits
        self.power_ = float(self.powers_[np.argmax(self.power_weights_)])
        self.t_last_ = float(X[:, 0].max())
        self.t_first_ = float(X[:, 0].min())
        return self

    def predict(self, X) -> np.ndarray:
        """Posterior-mean wear at times ``X`` (averaged over the exponent's posterior)."""
        check_is_fitted(self, "fits_")
        X = validate_data(self, X, reset=False)
        out = np.zeros(X.shape[0])
        for p, w, f in zip(self.powers_, self.power_weights_, self.fits_, strict=True):
            if w > 1e-12:
                Z = np.column_stack([np.ones(len(X)), (X**p - f["g_mean"]) / f["g_scale"]])
                out += w * (Z @ f["mean"] + f["y_mean"])
        return out

    def _draws(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Draws of (exponent, intercept c0, slope c1) of the wear trend c0 + c1 * t**p."""
        which = rng.choice(len(self.fits_), size=self.n_samples, p=self.power_weights_)
        p, c0, c1 = np.empty(self.n_samples), np.empty(self.n_samples), np.empty(self.n_samples)
        for i in np.unique(which):
            f, sel = self.fits_[i], which == i
            m = int(sel.sum())
            sigma2 = f["b"] / rng.gamma(f["a"], 1.0, size=m)
            chol = np.linalg.cholesky(f["cov"] + 1e-15 * np.eye(len(f["mean"])))
            w = f["mean"] + np.sqrt(sigma2)[:, None] * (rng.standard_normal((m, 2)) @ chol.T)
            slope = w[:, 1] / f["g_scale"][0]  # undo the standardisation
            p[sel], c1[sel] = self.powers_[i], slope
            c0[sel] = w[:, 0] + f["y_mean"] - slope * f["g_mean"][0]
        return p, c0, c1

    def crossing_time_samples(self, t_now: float | None = None) -> np.ndarray:
        """Draws of the time left (from ``t_now``, default the last fitted time) until the trend
        reaches ``threshold``; ``inf`` where the drawn trend never gets there."""
        check_is_fitted(self, "fits_")
        if self.threshold is None:
            raise ModelError("set threshold= to forecast a crossing")
        if self.n_features_in_ != 1:
            raise ModelError("crossing times need a model of wear against time alone")
        t_now = self.t_last_ if t_now is None else float(t_now)
        p, c0, c1 = self._draws(np.random.default_rng(self.random_state))
        up = self.increasing
        if up is None:  # parts start on the healthy side of their threshold
            up = self.threshold > float(self.predict(np.array([[self.t_first_]]))[0])
        toward = c1 > 0 if up else c1 < 0
        g_star = np.where(toward, (self.threshold - c0) / np.where(c1 != 0, c1, 1.0), np.inf)
        t_star = np.where(g_star > 0, np.abs(g_star) ** (1.0 / p), 0.0)
        return np.maximum(np.where(toward, t_star, np.inf) - t_now, 0.0)

    def forecast(
        self,
        asset_id: str,
        as_of: datetime | None = None,
        t_now: float | None = None,
        levels: Sequence[float] = DEFAULT_LEVELS,
        time_unit: str = "hours",
        horizon: float | None = None,
        component: str | None = None,
    ) -> FailureForecast:
        """Forecast of the time left until the threshold. Draws that never cross (or cross past
        ``horizon``, default ten times the observed span) are placed at the horizon."""
        samples = self.crossing_time_samples(t_now)
        horizon = horizon or 10.0 * max(self.t_last_ - self.t_first_, 1.0)
        beyond = float(np.mean(samples > horizon))
        return FailureForecast.from_samples(
            asset_id,
            as_of or datetime.now(UTC),
            np.minimum(samples, horizon),
            levels,
            time_unit=time_unit,
            model=f"wear-trend-{self.form}",
            model_version="1",
            component=component,
            extra={
                "threshold": self.threshold,
                "p_beyond_horizon": beyond,
                "horizon": horizon,
                "power": self.power_,
            },  # fmt: skip
            lower_tail_shape=self.lower_tail_shape,
        )
