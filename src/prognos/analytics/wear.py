"""Wear trends: when will a measured wear quantity reach its failure threshold?

A chain elongates until it reaches 3 %; a brake pad thins to its minimum. The wear is modelled as
``w(t) = a + b * g(t)`` with ``g(t) = t`` (``form="linear"``) or ``g(t) = t**p`` (``"power"``,
``p`` chosen by least squares on a grid), fitted as a Bayesian linear regression
(normal-inverse-gamma posterior, near-flat prior). Posterior draws of the trend give draws of the
time the *trend* crosses the threshold; their quantiles are the forecast. Measurement noise enters
through the posterior of the trend, not as failure by a single noisy reading. The exponent ``p``
is treated as known once chosen.

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

_POWERS = np.round(np.exp(np.linspace(np.log(0.25), np.log(4.0), 41)), 4)


class WearTrendModel(RegressorMixin, BaseEstimator):
    """Bayesian trend of wear vs time; ``X`` is time (one column, or any design for "linear")."""

    def __init__(
        self,
        threshold: float | None = None,
        increasing: bool | None = None,
        form: str = "linear",
        prior_precision: float = 1e-6,
        n_samples: int = 4000,
        random_state: int | None = None,
    ):
        self.threshold = threshold
        self.increasing = increasing
        self.form = form
        self.prior_precision = prior_precision
        self.n_samples = n_samples
        self.random_state = random_state

    def _basis(self, X: np.ndarray) -> np.ndarray:
        if self.form == "linear":
            return X
        return X**self.power_

    def _posterior(self, G: np.ndarray, y: np.ndarray) -> float:
        """Fit the normal-inverse-gamma posterior of (intercept, slopes); returns the SSR."""
        self.g_mean_ = G.mean(axis=0)
        self.g_scale_ = np.where(G.std(axis=0) > 0, G.std(axis=0), 1.0)
        self.y_mean_ = float(y.mean())
        Z = np.column_stack([np.ones(len(y)), (G - self.g_mean_) / self.g_scale_])
        yc = y - self.y_mean_
        prec = Z.T @ Z + self.prior_precision * np.eye(Z.shape[1])
        self.post_cov_unit_ = np.linalg.inv(prec)
        self.post_mean_ = self.post_cov_unit_ @ Z.T @ yc
        ssr = float(np.sum((yc - Z @ self.post_mean_) ** 2))
        a0 = b0 = 1e-3
        self.post_a_ = a0 + len(y) / 2.0
        self.post_b_ = b0 + 0.5 * max(ssr, 0.0) + 1e-12 * max(1.0, float(yc @ yc))
        return ssr

    def fit(self, X, y) -> WearTrendModel:
        X, y = validate_data(self, X, y, y_numeric=True)
        y = np.asarray(y, dtype=float)
        if self.form not in ("linear", "power"):
            raise ValueError(f"form must be 'linear' or 'power', not {self.form!r}")
        if self.form == "power":
            if X.shape[1] != 1 or np.any(X < 0):
                raise ValueError("form='power' needs one non-negative time column")
            ssr = {}
            for p in _POWERS:
                self.power_ = float(p)
                ssr[float(p)] = self._posterior(self._basis(X), y)
            self.power_ = min(ssr, key=ssr.get)
        else:
            self.power_ = 1.0
        self._posterior(self._basis(X), y)
        self.t_last_ = float(X[:, 0].max())
        self.t_first_ = float(X[:, 0].min())
        return self

    def _design(self, X: np.ndarray) -> np.ndarray:
        G = self._basis(X)
        return np.column_stack([np.ones(len(G)), (G - self.g_mean_) / self.g_scale_])

    def predict(self, X) -> np.ndarray:
        """Posterior-mean wear at times ``X``."""
        check_is_fitted(self, "post_mean_")
        X = validate_data(self, X, reset=False)
        return self._design(X) @ self.post_mean_ + self.y_mean_

    def _draws(self, rng: np.random.Generator) -> np.ndarray:
        sigma2 = self.post_b_ / rng.gamma(self.post_a_, 1.0, size=self.n_samples)
        chol = np.linalg.cholesky(self.post_cov_unit_ + 1e-15 * np.eye(len(self.post_mean_)))
        eps = rng.standard_normal((self.n_samples, len(self.post_mean_)))
        return self.post_mean_ + np.sqrt(sigma2)[:, None] * (eps @ chol.T)

    def crossing_time_samples(self, t_now: float | None = None) -> np.ndarray:
        """Draws of the time left (from ``t_now``, default the last fitted time) until the trend
        reaches ``threshold``; ``inf`` where the drawn trend never gets there."""
        check_is_fitted(self, "post_mean_")
        if self.threshold is None:
            raise ModelError("set threshold= to forecast a crossing")
        if self.n_features_in_ != 1:
            raise ModelError("crossing times need a model of wear against time alone")
        t_now = self.t_last_ if t_now is None else float(t_now)
        w = self._draws(np.random.default_rng(self.random_state))
        # trend in the basis g: wear = c0 + c1 * g, undoing the standardisation
        c1 = w[:, 1] / self.g_scale_[0]
        c0 = w[:, 0] + self.y_mean_ - c1 * self.g_mean_[0]
        up = self.increasing
        if up is None:
            up = self.threshold > float(self.predict(np.array([[t_now]]))[0])
        toward = c1 > 0 if up else c1 < 0
        g_star = np.where(toward, (self.threshold - c0) / np.where(c1 != 0, c1, 1.0), np.inf)
        t_star = np.where(g_star > 0, np.abs(g_star) ** (1.0 / self.power_), 0.0)
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
        )
