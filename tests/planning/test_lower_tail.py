"""The planner integrates the forecast's own CDF, power-law lower tail included."""

from __future__ import annotations

import numpy as np
import pytest
from planning_world import NOW, asset, calendar, cost_model, crew
from scipy.integrate import quad

from prognos.domain.forecast import DEFAULT_LEVELS, FailureForecast
from prognos.planning.costs import survival_tail
from prognos.planning.model import _fail_and_tail
from prognos.planning.optimizer import plan

VALUES = (20.0, 30.0, 45.0, 60.0, 75.0, 90.0, 100.0)
U = np.array([0.0, 0.5, 3.0, 10.0, 19.9, 20.0, 26.0, 60.0, 99.0, 120.0, 149.9, 150.0, 200.0])


def numerical(fc: FailureForecast, u: float) -> float:
    """integral_u^inf S(t) dt by adaptive quadrature of ``1 - fc.cdf``."""
    end = fc.values[-1] * fc.upper_tail
    if u >= end:
        return 0.0
    knots = [v for v in fc.values if u < v < end]
    return quad(lambda t: 1.0 - fc.cdf(t), u, end, points=knots or None, limit=200)[0]


@pytest.mark.parametrize("k", [1.0, 2.0, 3.5])
def test_the_planners_integral_is_the_forecasts_cdf_integrated(k):
    fc = FailureForecast("a", NOW, DEFAULT_LEVELS, VALUES, lower_tail_shape=k)
    p, tail = survival_tail(fc, U)
    assert p == pytest.approx(fc.cdf(U), abs=1e-12)
    assert tail == pytest.approx([numerical(fc, u) for u in U], abs=1e-7)


def test_forecasts_of_different_shapes_are_costed_together():
    fcs = [
        FailureForecast(
            str(k), NOW, DEFAULT_LEVELS, tuple(v * s for v in VALUES), lower_tail_shape=k
        )
        for k, s in ((1.0, 1.0), (2.0, 0.5), (3.5, 2.0))
    ]
    use = np.tile(U, (3, 1))
    f, tail = _fail_and_tail(fcs, use)
    for i, fc in enumerate(fcs):
        one_f, one_tail = survival_tail(fc, U)
        assert np.array_equal(f[i], one_f) and np.array_equal(tail[i], one_tail)


def test_shape_one_costs_exactly_what_the_straight_line_did():
    fc = FailureForecast("a", NOW, DEFAULT_LEVELS, VALUES)
    _, tail = survival_tail(fc, U)
    # the straight line's integrals by hand: below t0 = 20, S = 1 - 0.05 t / 20
    assert tail[1] == pytest.approx(tail[0] - (0.5 - 0.05 * 0.25 / 40), abs=1e-12)
    assert tail[0] - tail[5] == pytest.approx(20 * (1 - 0.05 / 2), abs=1e-12)


def test_a_healthy_wear_out_asset_with_cheap_wasted_life_is_left_alone():
    # 5 % quantile at 80 cycles, so the 21-day horizon (19 cycles: stops on days 9 and 16) sits
    # deep in the lower tail. Wasted life costs 10 a cycle; a failure 90,000 more than a job.
    # A straight line claims 0.05 * u / 80 and so 56 of risk per cycle: replacing at the first
    # stop (day 9, 9 cycles) avoids 0.05 * 10 / 80 * 90k = 563 of risk for 100 of wasted life.
    # With the Weibull-like shape 3 the same 10 cycles carry 0.05 * (19^3 - 9^3) / 80^3 * 90k
    # = 54 of risk: nothing is worth doing within the horizon.
    values = (80.0, 95.0, 120.0, 150.0, 180.0, 205.0, 220.0)
    kw = {"now": NOW, "horizon_days": 21, "time_limit_s": 5.0}
    world = ([asset("a")], {"s1": calendar()}, [crew()], (), {"pump": cost_model(wasted=10.0)})

    line = FailureForecast("a", NOW, DEFAULT_LEVELS, values)
    p = plan({"a": line}, *world, **kw)
    assert [(j.asset_id, j.day.isoformat(), j.in_window) for j in p.jobs] == [
        ("a", "2026-01-14", True)
    ]

    wear_out = FailureForecast("a", NOW, DEFAULT_LEVELS, values, lower_tail_shape=3.0)
    p = plan({"a": wear_out}, *world, **kw)
    assert p.jobs == []
