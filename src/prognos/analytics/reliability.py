"""Lifetimes of parts: censoring-aware Weibull (optionally with covariates) and Kaplan-Meier.

The Weibull model is an accelerated-failure-time regression: log of the scale is linear in the
covariates, the shape is shared. It is fitted by maximum likelihood with

* right censoring (``event=0``: the part was removed or observed alive at that age), and
* left truncation (``entry``: the part was first watched at that age, so lives shorter than it
  could never have been seen).

Given a part's age ``a``, the remaining life ``R`` has ``P(R > t) = S(a + t) / S(a)``; its
quantiles feed :class:`~prognos.domain.forecast.FailureForecast`, with a lower tail shaped like
the Weibull's own (see :func:`lower_tail_shape`).

    model = WeibullModel().fit(None, durations, event=failed)
    forecast = model.forecast("pump-3", now, age=120.0, time_unit="days")
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
from scipy.optimize import minimize
from scipy.special import gamma as gamma_fn
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from prognos.domain.forecast import DEFAULT_LEVELS, FailureForecast
from prognos.errors import ModelError

_LOG_K_BOUNDS = (np.log(0.02), np.log(50.0))


def _nll(w, logt, z, d, logt0, has_entry, alpha):
    """Negative log-likelihood of the Weibull AFT and its gradient; w = (b0, beta..., log k)."""
    b0, beta, theta = w[0], w[1:-1], w[-1]
    k = np.exp(theta)
    eta = b0 + z @ beta
    ku = np.clip(k * (logt - eta), -700, 700)
    h = np.exp(ku)
    ku0 = np.where(has_entry, np.clip(k * (logt0 - eta), -700, 700), 0.0)
    h0 = np.where(has_entry, np.exp(ku0), 0.0)
    ll = d * (theta + ku - logt) - h + h0
    g_eta = -d * k + k * h - k * h0
    g_theta = d * (1.0 + ku) - ku * h + ku0 * h0
    nll = -ll.sum() + 0.5 * alpha * beta @ beta
    grad = np.concatenate([[-g_eta.sum()], -(z.T @ g_eta) + alpha * beta, [-g_theta.sum()]])
    return nll, grad


class WeibullModel(RegressorMixin, BaseEstimator):
    """Weibull lifetime regression for censored, truncated data; ``predict`` gives the mean life.

    ``fit(X, y, event=None, entry=None)``: ``y`` are ages at failure or censoring, ``event`` is 1
    for a failure and 0 for censoring (default: all failures), ``entry`` the age at which each
    part came under observation (default 0). ``X`` holds covariates, or ``None`` for none.
    ``alpha`` is a ridge penalty on the (standardised) covariate effects.
    """

    def __init__(self, alpha: float = 0.0, max_iter: int = 1000):
        self.alpha = alpha
        self.max_iter = max_iter

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        tags.regressor_tags.poor_score = True  # a lifetime distribution, not a least-squares fit
        return tags

    def _design(self, X, y=None, reset: bool = False):
        if X is None:
            if reset:
                self.n_features_in_ = 0
            elif self.n_features_in_:
                raise ModelError(f"this model needs {self.n_features_in_} covariates per row")
            n = 1 if y is None else len(y)
            return np.empty((n, 0)), y
        if y is None:
            return validate_data(self, X, reset=reset), None
        return validate_data(self, X, y, y_numeric=True, reset=reset)

    def fit(self, X, y, *, event=None, entry=None) -> WeibullModel:
        if y is None:
            raise ValueError("WeibullModel requires y to be passed, but the target y is None")
        if X is None:
            y = np.asarray(y, dtype=float).ravel()
        X, y = self._design(X, y, reset=True)
        y = np.asarray(y, dtype=float)
        if len(y) == 0 or not np.all(np.isfinite(y)) or np.any(y <= 0):
            raise ValueError("lifetimes y must be finite and positive")
        d = np.ones(len(y)) if event is None else np.asarray(event, dtype=float).ravel()
        t0 = np.zeros(len(y)) if entry is None else np.asarray(entry, dtype=float).ravel()
        if d.shape != y.shape or t0.shape != y.shape:
            raise ValueError("event and entry need one value per lifetime")
        if np.any(t0 >= y) or np.any(t0 < 0):
            raise ValueError("entry ages must lie in [0, lifetime)")
        if d.sum() == 0:
            raise ModelError("no failures among the lifetimes: the Weibull fit is undefined")
        self.x_mean_ = X.mean(axis=0)
        self.x_scale_ = np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
        z = (X - self.x_mean_) / self.x_scale_
        logt, has_entry = np.log(y), t0 > 0
        logt0 = np.log(np.where(has_entry, t0, 1.0))
        w0 = np.concatenate([[np.log(y.mean())], np.zeros(z.shape[1]), [0.0]])
        bounds = [(None, None)] * (1 + z.shape[1]) + [_LOG_K_BOUNDS]
        args = (logt, z, d, logt0, has_entry, self.alpha)
        res = minimize(_nll, w0, args=args, jac=True, method="L-BFGS-B", bounds=bounds,
                       options={"maxiter": self.max_iter, "ftol": 1e-12, "gtol": 1e-8})  # fmt: skip
        b0, beta, theta = res.x[0], res.x[1:-1], res.x[-1]
        self.shape_ = float(np.exp(theta))
        self.coef_ = beta / self.x_scale_
        self.intercept_ = float(b0 - self.coef_ @ self.x_mean_)
        self.loglik_ = float(-res.fun)
        self.aic_ = float(2 * len(res.x) - 2 * self.loglik_)
        self.converged_ = bool(res.success)
        self.n_iter_ = max(int(res.nit), 1)
        self.n_events_ = int(d.sum())
        self.n_censored_ = int(len(d) - d.sum())
        return self

    # -- the distribution ---------------------------------------------------------------------
    def scale(self, X=None) -> np.ndarray:
        """Weibull scale per row of covariates (one value when there are none)."""
        check_is_fitted(self, "shape_")
        X, _ = self._design(X)
        return np.exp(self.intercept_ + X @ self.coef_)

    @property
    def scale_(self) -> float:
        """The scale without covariates (or at covariates all zero)."""
        check_is_fitted(self, "shape_")
        return float(np.exp(self.intercept_))

    def predict(self, X) -> np.ndarray:
        """Mean life per row."""
        return self.scale(X) * gamma_fn(1.0 + 1.0 / self.shape_)

    def survival(self, t, X=None) -> np.ndarray:
        """S(t) for each time in ``t`` (rows: covariate rows; one row without covariates)."""
        lam = self.scale(X)[:, None]
        tt = np.atleast_1d(np.asarray(t, dtype=float))[None, :]
        return np.exp(-((np.maximum(tt, 0.0) / lam) ** self.shape_))

    def remaining_life_quantiles(
        self, age: float, levels: Sequence[float] = DEFAULT_LEVELS, X=None
    ) -> np.ndarray:
        """Quantiles of the remaining life of parts that have survived to ``age``."""
        lam = self.scale(X)[:, None]
        k = self.shape_
        p = np.asarray(levels, dtype=float)[None, :]
        total = lam * ((age / lam) ** k - np.log1p(-p)) ** (1.0 / k)
        return np.maximum(total - age, 0.0)

    def forecast(
        self,
        asset_id: str,
        as_of: datetime | None = None,
        age: float = 0.0,
        x: Sequence[float] | None = None,
        levels: Sequence[float] = DEFAULT_LEVELS,
        time_unit: str = "hours",
        component: str | None = None,
    ) -> FailureForecast:
        """Remaining-life forecast of one part of age ``age`` with covariates ``x``."""
        X = None if x is None else np.asarray(x, dtype=float).reshape(1, -1)
        q = self.remaining_life_quantiles(age, levels, X)[0]
        scale = float(self.scale(X)[0])
        return FailureForecast(
            asset_id,
            as_of or datetime.now(UTC),
            tuple(levels),
            tuple(float(v) for v in q),
            time_unit=time_unit,
            model="weibull-aft",
            model_version="1",
            component=component,
            extra={"age": age, "shape": self.shape_, "scale": scale},
            lower_tail_shape=lower_tail_shape(self.shape_, scale, age, min(levels), float(q.min())),
        )


def lower_tail_shape(shape: float, scale: float, age: float, p0: float, t0: float) -> float:
    """The power ``k`` of the forecast's tail ``p0 * (t / t0) ** k`` below its lowest quantile.

    A new part (``age == 0``) fails early like ``(t / scale) ** shape``: ``k = shape`` is exact as
    ``t -> 0``. A part of age ``a > 0`` has the hazard ``h(a)`` for a while, so its conditional CDF
    starts as a straight line (``k = 1``), bending towards ``t ** shape`` only once ``t`` is no
    longer small against ``a``. Where that happens inside the tail (a young part), ``k`` is the one
    power law through the conditional CDF at ``t0 / 2`` and ``t0``, kept between 1 and ``shape``.
    """
    if age <= 0 or t0 <= 0:
        return float(shape)
    h0 = (age / scale) ** shape
    f_half = -np.expm1(h0 - ((age + 0.5 * t0) / scale) ** shape)
    k = np.log(max(f_half, 1e-300) / p0) / np.log(0.5)
    lo, hi = sorted((1.0, float(shape)))
    return float(np.clip(k, lo, hi))


def kaplan_meier(durations, event) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier survival: distinct event times and S just after each."""
    t = np.asarray(durations, dtype=float)
    d = np.asarray(event, dtype=bool)
    times = np.unique(t[d])
    at_risk = np.array([(t >= u).sum() for u in times])
    deaths = np.array([((t == u) & d).sum() for u in times])
    return times, np.cumprod(1.0 - deaths / at_risk)


def _sup_deviation(km: np.ndarray, fitted: np.ndarray) -> float:
    """Largest gap between a KM step function and a continuous S, just before and at each step."""
    if len(km) == 0:
        return 0.0
    before = np.r_[1.0, km[:-1]]
    return float(max(np.max(np.abs(km - fitted)), np.max(np.abs(before - fitted))))


def fit_report(durations, event) -> dict[str, float | int]:
    """Weibull vs exponential fit of censored lifetimes, with a Kaplan-Meier check."""
    t = np.asarray(durations, dtype=float)
    d = np.asarray(event, dtype=float)
    wb = WeibullModel().fit(None, t, event=d)
    # the exponential MLE with censoring is closed-form: events / exposure
    rate = d.sum() / t.sum()
    ll_exp = float(d.sum() * np.log(rate) - rate * t.sum())
    times, km = kaplan_meier(t, d)
    fitted = wb.survival(times)[0]
    return {
        "n_lives": len(t),
        "n_events": int(d.sum()),
        "n_censored": int(len(t) - d.sum()),
        "shape": wb.shape_,
        "scale": wb.scale_,
        "mean_life": float(wb.predict(None)[0]),
        "median_life": float(wb.scale_ * np.log(2) ** (1 / wb.shape_)),
        "aic_weibull": wb.aic_,
        "aic_exponential": 2.0 - 2.0 * ll_exp,
        "km_max_abs_dev": _sup_deviation(km, fitted),
    }
