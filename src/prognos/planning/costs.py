"""Expected cost of replacing a component after ``u`` units of usage, given its forecast.

With ``T`` the time to failure, ``F`` its CDF and ``S = 1 - F``::

    cost(u) = F(u) * C_unplanned + S(u) * C_planned + w * integral_u^inf S(t) dt

The last term is the value of the life thrown away, ``w * E[T - u | T > u] * S(u)``. Doing
nothing within the horizon costs ``cost(u_H)`` with the planned cost of an in-window job: the
cheapest the future can be, so the planner never replaces early only to dodge a later window.

``F`` is the forecast's own CDF, integrated exactly: piecewise linear between quantiles, and the
power law ``p0 * (t / t0) ** k`` below the lowest quantile (``k = lower_tail_shape``), whose
integral from 0 to ``u`` is ``p0 * t0 / (k + 1) * (u / t0) ** (k + 1)``.
"""

from __future__ import annotations

import numpy as np

from prognos.domain.forecast import FailureForecast
from prognos.domain.planning import CostModel


def survival_tail(fc: FailureForecast, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``F(u)`` and ``integral_u^inf S(t) dt`` for every ``u``."""
    u = np.atleast_1d(np.asarray(u, dtype=float))
    f, tail = batch_fail_and_tail(
        np.asarray([fc.values]),
        np.asarray(fc.levels),
        np.array([fc.upper_tail]),
        u[None, :],
        np.array([fc.lower_tail_shape]),
    )
    return f[0], tail[0]


def expected_costs(
    fc: FailureForecast, usage: np.ndarray, cm: CostModel, in_window: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Expected cost of a replacement after each ``usage``, and the failure probability before it."""
    p, tail = survival_tail(fc, usage)
    planned = np.where(in_window, cm.planned_cost(True), cm.planned_cost(False))
    cost = p * cm.unplanned_cost + (1.0 - p) * planned + cm.wasted_life_cost_per_unit * tail
    return cost, p


def no_job_cost(fc: FailureForecast, usage_h: float, cm: CostModel) -> tuple[float, float]:
    """Expected cost of leaving the component alone for the horizon, and P(fail within it)."""
    c, p = expected_costs(fc, np.array([usage_h]), cm, np.array([True]))
    return float(c[0]), float(p[0])


def batch_fail_and_tail(
    values: np.ndarray,
    levels: np.ndarray,
    upper: np.ndarray,
    u: np.ndarray,
    lower_shape: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``F(u)`` and ``integral_u^inf S`` for n forecasts at once (exact for the forecast's CDF).

    ``values`` (n, L) quantiles at ``levels`` (L,), ``upper`` (n,) tail factors, ``u`` (n, m),
    ``lower_shape`` (n,) lower-tail shapes (default 1: the straight line from 0).
    """
    n = values.shape[0]
    k = np.ones(n) if lower_shape is None else np.asarray(lower_shape, dtype=float)
    hi = np.maximum(values[:, -1] * upper, values[:, -1] + 1e-9)
    xs = np.maximum.accumulate(np.column_stack([np.zeros(n), np.maximum(values, 0.0), hi]), axis=1)
    ss = 1.0 - np.concatenate([[0.0], levels, [1.0]])
    seg = np.diff(xs, axis=1) * (ss[:-1] + ss[1:]) * 0.5
    # below the lowest quantile t0: integral_0^t0 S = t0 - p0 * t0 / (k + 1); the trapezoid of
    # the line above is that for k = 1, kept as it was so old forecasts cost exactly what they did
    p0, t0, bent = levels[0], xs[:, 1], k != 1.0
    seg[:, 0] = np.where(bent, t0 * (1.0 - p0 / (k + 1.0)), seg[:, 0])
    cum = np.column_stack([np.zeros(n), np.cumsum(seg, axis=1)])
    j = np.clip((u[:, :, None] >= xs[:, None, :]).sum(-1) - 1, 0, xs.shape[1] - 2)
    x0 = np.take_along_axis(xs, j, axis=1)
    x1 = np.take_along_axis(xs, j + 1, axis=1)
    width = x1 - x0
    frac = np.where(width > 0, np.clip((u - x0) / np.where(width > 0, width, 1.0), 0.0, 1.0), 1.0)
    s0, s1 = ss[j], ss[j + 1]
    s_u = np.where(u >= hi[:, None], 0.0, s0 + (s1 - s0) * frac)
    c_u = np.take_along_axis(cum, j, axis=1) + (np.minimum(u, x1) - x0).clip(0) * (s0 + s_u) * 0.5
    low = bent[:, None] & (j == 0) & (u > 0) & (u < t0[:, None])
    if low.any():  # the power-law segment, exactly
        kk = np.broadcast_to(k[:, None], u.shape)
        r = np.where(low, u, 0.0) / np.where(t0 > 0, t0, 1.0)[:, None]
        f_low = p0 * r**kk
        s_u = np.where(low, 1.0 - f_low, s_u)
        c_low = u - p0 * t0[:, None] / (kk + 1.0) * r ** (kk + 1.0)
        c_u = np.where(low, c_low, c_u)
    tail = np.maximum(cum[:, -1:] - c_u, 0.0)
    return 1.0 - s_u, np.where(u >= hi[:, None], 0.0, tail)
