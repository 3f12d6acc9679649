"""Wear trends: when will a measured wear quantity reach its failure threshold?

A chain elongates until it reaches 3 %; a brake pad thins to its minimum. The wear is modelled as
``w(t) = a + b * g(t)`` with ``g(t) = t`` (``form="linear"``) or ``g(t) = t**p`` (``"power"``,
``p`` on a grid from 0.25 to 4), fitted as a Bayesian linear regression for each ``p``
(normal-inverse-gamma posterior, near-flat prior) and mixed over ``p`` by its profile likelihood.
Posterior draws of the trend give draws of the time the *trend* crosses the threshold; their
quantiles are the forecast. Measurement noise enters through the posterior of the trend, not as
failure by a single noisy reading. Wear readings err alike for a while (load, temperature,
lubricant film): the residuals' autocorrelation gives an effective number of readings
``n / R`` (``R`` the long-run variance ratio) to which the likelihood is tempered, so neither
the trend nor the exponent is believed more than the data support (``docs/bench/rul.md``).

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
        """Normal-inverse-gamma posterior of (intercept, slopes) on standardised columns ``G``,
        one design (any number of columns); arrays carry a leading axis of length 1."""
        g_mean = G.mean(axis=0)
        g_scale = np.where(G.std(axis=0) > 0, G.std(axis=0), 1.0)
        y_mean = float(y.mean())
        Z = np.column_stack([np.ones(len(y)), (G - g_mean) / g_scale])
        yc = y - y_mean
        cov = np.linalg.inv(Z.T @ Z + prior_precision * np.eye(Z.shape[1]))
        mean = cov @ Z.T @ yc
        resid = yc - Z @ mean
        return {"g_mean": g_mean[None], "g_scale": g_scale[None], "y_mean": y_mean,
                "cov": cov[None], "mean": mean[None], "ssr": np.array([resid @ resid]),
                "resid": resid[None]}  # fmt: skip

    @staticmethod
    def _power_posteriors(t: np.ndarray, y: np.ndarray, powers, prior_precision: float) -> dict:
        """``_posterior`` of ``y ~ a + b * t**p`` for every ``p`` at once: with one standardised
        column ``Z'Z`` is diagonal, so each fit is a handful of dot products (~50x faster)."""
        n = len(y)
        G = t[None, :] ** powers[:, None]
        g_mean = G.mean(axis=1)
        sd = G.std(axis=1)
        g_scale = np.where(sd > 0, sd, 1.0)
        Zs = (G - g_mean[:, None]) / g_scale[:, None]
        y_mean = float(y.mean())
        yc = y - y_mean
        zz = np.einsum("ij,ij->i", Zs, Zs)
        cov = np.zeros((len(powers), 2, 2))
        cov[:, 0, 0] = 1.0 / (n + prior_precision)
        cov[:, 1, 1] = 1.0 / (zz + prior_precision)
        mean = np.column_stack([np.zeros(len(powers)), cov[:, 1, 1] * (Zs @ yc)])
        resid = yc[None, :] - mean[:, 1:2] * Zs
        ssr = np.einsum("ij,ij->i", resid, resid)
        return {"g_mean": g_mean[:, None], "g_scale": g_scale[:, None], "y_mean": y_mean,
                "cov": cov, "mean": mean, "ssr": ssr, "resid": resid}  # fmt: skip

    @staticmethod
    def _noise_inflation(resid: np.ndarray) -> float:
        """How many times the variance of a trend fitted to ``resid``'s series exceeds what
        independent readings would give: the long-run variance ratio ``1 + 2 sum_k r_k`` of
        the residuals (in time order), modelled as white noise plus an AR(1) drift,
        ``r_k = kappa * rho**k``, fitted to the first lags' autocorrelations."""
        n = len(resid)
        e = resid - resid.mean()
        var = float(e @ e)
        m = min(60, n // 4)
        if m < 2 or var <= 0:
            return 1.0
        r = np.array([float(e[:-k] @ e[k:]) / var for k in range(1, m + 1)])
        if r[0] <= 0.0:  # no autocorrelation to speak of: readings count fully
            return 1.0
        # correlation times up to a third of the lags fitted: longer ones trade off against c
        rho = np.linspace(0.0, np.exp(-3.0 / m), 100)[1:]
        basis = rho[:, None] ** np.arange(1, m + 1)[None, :]
        # r_k ~ kappa * rho**k - c: the fitted trend soaks up the slowest part of the drift,
        # which lowers every residual autocorrelation by about the same c >= 0
        bm, bb, s_r, s_br = basis.mean(1), np.einsum("ij,ij->i", basis, basis), r.mean(), basis @ r
        kappa = np.clip((s_br - m * bm * s_r) / np.maximum(bb - m * bm**2, 1e-12), 0.0, 1.0)
        c = np.maximum(kappa * bm - s_r, 0.0)
        sse = np.sum((r[None, :] - kappa[:, None] * basis + c[:, None]) ** 2, axis=1)
        best = int(np.argmin(sse))
        ratio = 1.0 + 2.0 * kappa[best] * rho[best] / (1.0 - rho[best])
        return float(np.clip(ratio, 1.0, n / 3.0))

    def fit(self, X, y) -> WearTrendModel:
        X, y = validate_data(self, X, y, y_numeric=True)
        y = np.asarray(y, dtype=float)
        if self.form not in ("linear", "power"):
            raise ValueError(f"form must be 'linear' or 'power', not {self.form!r}")
        if self.form == "power":
            if X.shape[1] != 1 or np.any(X < 0):
                raise ValueError("form='power' needs one non-negative time column")
            powers = _POWERS
            fit = self._power_posteriors(X[:, 0], y, powers, self.prior_precision)
        else:
            powers = np.array([1.0])
            fit = self._posterior(X, y, self.prior_precision)
        n = len(y)
        ssr = np.maximum(fit["ssr"], 1e-300)
        # Autocorrelated residuals carry less information than n independent readings: the
        # likelihood is tempered to n_eff = n / inflation readings, which widens the trend's
        # posterior and flattens the exponent's alike (white noise: inflation 1, unchanged).
        order = np.argsort(X[:, 0], kind="stable")
        resid = fit.pop("resid")[int(np.argmin(ssr))][order]
        self.noise_inflation_ = self._noise_inflation(resid)
        self.n_eff_ = n / self.noise_inflation_
        # exponent posterior on the grid (flat in log p): marginal likelihood ~ SSR^(-(n-2)/2)
        logw = -0.5 * max(self.n_eff_ - 2.0, 1.0) * np.log(ssr)
        w = np.exp(logw - logw.max())
        a0 = b0 = 1e-3
        fit["a"] = a0 + self.n_eff_ / 2.0
        fit["b"] = b0 + 0.5 * ssr + 1e-12 * max(1.0, float(np.sum((y - y.mean()) ** 2)))
        self.powers_, self.power_weights_ = powers.astype(float), w / w.sum()
        self.fits_ = fit
        self.power_ = float(self.powers_[np.argmax(self.power_weights_)])
        self.t_last_ = float(X[:, 0].max())
        self.t_first_ = float(X[:, 0].min())
        return self

    def predict(self, X) -> np.ndarray:
        """Posterior-mean wear at times ``X`` (averaged over the exponent's posterior)."""
        check_is_fitted(self, "fits_")
        X = validate_data(self, X, reset=False)
        f, out = self.fits_, np.zeros(X.shape[0])
        for i in np.flatnonzero(self.power_weights_ > 1e-12):
            Z = (X ** self.powers_[i] - f["g_mean"][i]) / f["g_scale"][i]
            out += self.power_weights_[i] * (Z @ f["mean"][i, 1:] + f["mean"][i, 0] + f["y_mean"])
        return out

    def _draws(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Draws of (exponent, intercept c0, slope c1) of the wear trend c0 + c1 * t**p."""
        f, k = self.fits_, self.fits_["mean"].shape[1]
        which = rng.choice(len(self.powers_), size=self.n_samples, p=self.power_weights_)
        chol = np.linalg.cholesky(f["cov"] + 1e-15 * np.eye(k))
        sigma2 = f["b"][which] / rng.gamma(f["a"], 1.0, size=self.n_samples)
        z = np.einsum("sij,sj->si", chol[which], rng.standard_normal((self.n_samples, k)))
        w = f["mean"][which] + np.sqrt(sigma2)[:, None] * z
        slope = w[:, 1] / f["g_scale"][which, 0]  # undo the standardisation
        c0 = w[:, 0] + f["y_mean"] - slope * f["g_mean"][which, 0]
        return self.powers_[which], c0, slope

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
        also: Sequence[WearTrendModel] = (),
    ) -> FailureForecast:
        """Forecast of the time left until the threshold. Draws that never cross (or cross past
        ``horizon``, default ten times the observed span) are placed at the horizon.

        ``also``: models of the same threshold fitted on part of the same history (its recent
        stretch), whose draws are pooled with this one's: a mixture of the whole life's trend
        and the recent one, so a rate that changed (a chain whose lubrication failed) moves
        the lower tail instead of being averaged away over the life."""
        samples = self.crossing_time_samples(t_now)
        if also:
            samples = np.concatenate([samples, *(m.crossing_time_samples(t_now) for m in also)])
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
