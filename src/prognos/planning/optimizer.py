"""Choose the replacements, and say how far from the best plan the answer can be.

    plan = optimizer.plan(forecasts, assets, calendars, crews, stock, costs, committed,
                          now=now, horizon_days=56, time_limit_s=10)

The objective is the expected total cost: for every component either its chosen candidate's
expected cost (failure risk before it, planned work and parts, life thrown away) or the cost of
doing nothing in the horizon; plus travel and call-out of every crew visit.

Two ways, by size (``method``):

* ``exact`` (the service's and the two-year benchmark's plans): a greedy plan as hint and
  fallback, CP-SAT on the exact model within the time limit (:mod:`exact`), and the LP
  relaxation as bound (:mod:`bounds`).
* ``decompose`` (from ``DECOMPOSE_FROM`` candidates: thousands of assets): regions planned side
  by side, on a Dask client when one is given, with a Lagrangian bound (:mod:`decompose`).

``Plan.lower_bound`` is a bound on every plan's cost; ``Plan.bound_method`` names it.
Day ``d`` is a local date at every site (:func:`local_dates`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np

from prognos.domain.forecast import FailureForecast
from prognos.domain.planning import (
    CostModel,
    Crew,
    PartStock,
    Plan,
    PlanAsset,
    SiteCalendar,
    Travel,
    WorkOrder,
)
from prognos.planning.bounds import lp_bound
from prognos.planning.calendar import DayProfile, day_profile
from prognos.planning.exact import greedy, solve_cpsat
from prognos.planning.explain import jobs_of
from prognos.planning.model import build
from prognos.planning.problem import Problem, Solution

__all__ = ["Solution", "greedy", "local_dates", "lp_bound", "plan", "solve_cpsat"]


def local_dates(
    calendars: Mapping[str, SiteCalendar | DayProfile], now: datetime
) -> tuple[date, dict[str, date]]:
    """Each site's date at ``now`` in its own time zone, and the earliest of them (day 0).

    A ``DayProfile`` carries no time zone: its days are taken as dated where ``now`` is.
    """
    local = {
        s: now.astimezone(ZoneInfo(c.timezone)).date()
        if isinstance(c, SiteCalendar)
        else now.date()
        for s, c in calendars.items()
    }
    return min(local.values(), default=now.date()), local


def plan(
    forecasts: Mapping[str, FailureForecast],
    assets: Sequence[PlanAsset],
    calendars: Mapping[str, SiteCalendar | DayProfile],
    crews: Sequence[Crew],
    stock: Sequence[PartStock],
    costs: Mapping[str, CostModel],
    committed: Sequence[WorkOrder] = (),
    *,
    now: datetime,
    horizon_days: int = 56,
    travel: Travel | None = None,
    time_limit_s: float = 10.0,
    workers: int = 2,
    with_bound: bool = True,
    method: str = "auto",
    executor=None,
    stats: dict | None = None,
    **options,
) -> Plan:
    """The cheapest plan in expectation, found within ``time_limit_s`` (see module docstring).

    ``forecasts`` are keyed by :attr:`PlanAsset.key`; ``costs`` by asset key, asset id or asset
    type. Raises ``Infeasible`` naming the constraint when committed orders cannot be kept.
    ``method``: ``exact`` (greedy and CP-SAT, LP bound), ``decompose`` (regions side by side,
    Lagrangian bound; ``max_candidates`` is not applied) or ``auto`` (``decompose`` from
    ``DECOMPOSE_FROM`` candidates). ``executor`` (a ``concurrent.futures`` executor or a Dask
    client) runs the decomposition's units; without one they run in this process. ``stats``,
    a dict, receives the decomposition's timings and bounds.
    """
    t0 = time.perf_counter()
    today, local = local_dates(calendars, now)
    profiles = {
        s: c if isinstance(c, DayProfile) else day_profile(c, today, horizon_days + 1)
        for s, c in calendars.items()
    }

    def build_with(**opts) -> Problem:
        return build(forecasts, assets, profiles, crews, stock, costs, committed, travel or Travel(),
                     today, horizon_days, local_today=local, **opts)  # fmt: skip

    if method == "decompose" or (method == "auto" and _large(forecasts, horizon_days)):
        pr = build_with(**{**options, "max_candidates": None})
        if method == "decompose" or pr.n_cands >= DECOMPOSE_FROM:
            return _decomposed(pr, now, t0, time_limit_s, executor, stats)
        pr = build_with(**options)
    else:
        pr = build_with(**options)
    sol = greedy(pr)
    if pr.n_cands:  # day-by-day re-planning often beats the greedy plan: the better is the hint
        from prognos.planning.decompose import day_plan

        days, cost = day_plan(pr, min(0.2 * time_limit_s, 1.0))
        if cost < sol.objective(pr) - 1e-6:
            sol = days
    status, bound, how = "heuristic", -np.inf, "cp-sat"
    left = time_limit_s - (time.perf_counter() - t0)
    if pr.n_cands and left > 0.05:
        found, st, bound = solve_cpsat(pr, sol, left, workers)
        if options.get("max_candidates") is not None:
            bound = -np.inf  # CP-SAT bounds the restricted model only
        if found is not None and found.objective(pr) <= sol.objective(pr) + 1e-6:
            sol, status = found, st
    elif not pr.n_cands:
        status, bound, how = "optimal", float(pr.none_cost.sum()), "exact"
    if with_bound:
        if options.get("max_candidates") is not None:  # restricted model: bound the full one
            full = {**options, "max_candidates": None}
            pr_full = build_with(**full)
            bound, how = lp_bound(pr_full), "lp-relaxation"
        else:
            lp = lp_bound(pr)
            bound, how = (lp, "lp-relaxation") if lp > bound else (bound, how)
    objective = sol.objective(pr)
    if pr.relaxed_bound > bound:
        bound, how = pr.relaxed_bound, "per-component"
    return Plan(
        created_at=now,
        horizon_days=horizon_days,
        jobs=jobs_of(pr, sol),
        objective=objective,
        lower_bound=min(bound, objective),
        status=status,
        solve_seconds=time.perf_counter() - t0,
        released_orders=pr.released,
        bound_method=how,
    )


DECOMPOSE_FROM = 40_000  # candidates: beyond this CP-SAT's model is too large for its time


def _large(forecasts, horizon_days: int) -> bool:
    """Cheap guess before building: could the problem reach ``DECOMPOSE_FROM`` candidates?"""
    return len(forecasts) * horizon_days >= DECOMPOSE_FROM


def _decomposed(
    pr: Problem, now: datetime, t0: float, time_limit_s: float, executor, stats
) -> Plan:
    from prognos.planning.decompose import BOUND_METHOD, plan_large

    t_build = time.perf_counter() - t0
    left = time_limit_s - t_build - 0.05 * len(pr.assets) / 1000
    sol, objective, bound, details = plan_large(pr, max(left, 1.0), executor)
    bound = max(bound, pr.relaxed_bound)
    t_jobs = time.perf_counter()
    jobs = jobs_of(pr, sol)
    if stats is not None:
        stats.update(details, build_seconds=round(t_build, 2), candidates=pr.n_cands,
                     jobs_seconds=round(time.perf_counter() - t_jobs, 2))  # fmt: skip
    return Plan(
        created_at=now,
        horizon_days=pr.horizon,
        jobs=jobs,
        objective=objective,
        lower_bound=min(bound, objective),
        status="feasible",
        solve_seconds=time.perf_counter() - t0,
        released_orders=pr.released,
        bound_method=BOUND_METHOD if bound > pr.relaxed_bound else "per-component",
    )
