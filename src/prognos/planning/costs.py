"""Expected cost of replacing a component after ``u`` units of usage, given its forecast.

With ``T`` the time to failure, ``F`` its CDF and ``S = 1 - F``::

    cost(u) = F(u) * C_unplanned + S(u) * C_planned + w * integral_u^inf S(t) dt

The last term is the value of the life thrown away, ``w * E[T - u | T > u] * S(u)``. Doing
nothing within the horizon costs ``cost(u_H)`` with the planned cost of an in-window job: the
cheapest the future can be, so the planner never replaces early only to dodge a later window.
"""

from __future__ import annotations

import numpy as np

from prognos.domain.forecast import FailureForecast
from prognos.domain.planning import CostModel

_GRID = 256


def survival_tail(fc: FailureForecast, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``F(u)`` and ``integral_u^inf S(t) dt`` for every ``u``."""
    xs, ps = fc._knots()
    hi = float(xs[-1])
    grid = np.linspace(0.0, max(hi, 1e-9), _GRID)
    s = 1.0 - np.asarray(fc.cdf(grid), dtype=float)
    cum = np.concatenate([[0.0], np.cumsum((s[1:] + s[:-1]) * 0.5 * np.diff(grid))])
    total = cum[-1]
    u = np.asarray(u, dtype=float)
    tail = np.maximum(total - np.interp(u, grid, cum, right=total), 0.0)
    return np.asarray(fc.cdf(u), dtype=float), tail


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
