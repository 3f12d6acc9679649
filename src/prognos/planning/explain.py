"""Turn a solution into jobs, each saying why it sits in its window and not the one before or after."""

from __future__ import annotations

import numpy as np

from prognos.domain.planning import EMERGENCY_P, Explanation, PlannedJob
from prognos.planning.problem import Candidate, Problem, Solution


def _eur(v: float) -> str:
    return f"EUR {v:,.0f}"


def explain(pr: Problem, i: int, k: int) -> Explanation:
    """Failure probability before the chosen day, cost avoided, and the neighbouring windows."""
    c = _cand(pr, k)
    lo, hi = int(pr.a_ptr[i]), int(pr.a_ptr[i + 1])  # the component's candidates, by day
    win = pr.c_win[lo:hi]
    # compare with the neighbouring windows; with days outside windows only when there are none
    before_k, after_k = np.arange(lo, k), np.arange(k + 1, hi)
    earlier = [
        _cand(pr, q) for q in (before_k[win[: k - lo]] if win[: k - lo].any() else before_k)[-1:]
    ]
    later = [
        _cand(pr, q)
        for q in (after_k[win[k + 1 - lo :]] if win[k + 1 - lo :].any() else after_k)[:1]
    ]
    if c.forced:
        before = "committed order kept: it is already dispatched or in progress"
    elif not earlier:
        before = "no earlier day with a window, a crew and the part"
    else:
        e = earlier[-1]
        diff = e.cost - c.cost
        if diff >= 0:
            before = (
                f"{pr.date_of(e.day)} costs {_eur(diff)} more in expectation: it throws "
                f"away more remaining life" + ("" if e.in_window else " and stops production")
            )
        else:
            before = (
                f"{pr.date_of(e.day)} is {_eur(-diff)} cheaper for this component alone, but "
                "crew capacity, parts or grouping with other jobs make this day cheaper overall"
            )
    if not later:
        after = (
            f"no later window in the horizon; leaving it costs {_eur(pr.none_cost[i])} "
            f"(P(failure within horizon) = {pr.none_p[i]:.0%})"
        )
    else:
        n = later[0]
        diff = n.cost - c.cost
        if diff >= 0:
            after = (
                f"waiting until {pr.date_of(n.day)} raises P(failure first) from "
                f"{c.p_fail:.0%} to {n.p_fail:.0%}, {_eur(diff)} more in expectation"
            )
        else:
            after = (
                f"{pr.date_of(n.day)} is {_eur(-diff)} cheaper for this component alone, but "
                "crew capacity, parts or grouping with other jobs make this day cheaper overall"
            )
    # an emergency: it could not wait for the next window (or for none) without likely failing
    wait_p = later[0].p_fail if later and later[0].in_window else float(pr.none_p[i])
    # built from the planner's own numbers: no validation needed (a 100,000-asset plan has 30,000)
    return Explanation.model_construct(
        prob_fail_before=c.p_fail,
        expected_cost=c.cost,
        expected_cost_avoided=float(pr.none_cost[i] - c.cost),
        why_not_earlier=before,
        why_not_later=after,
        emergency=not c.in_window and wait_p >= EMERGENCY_P,
    )


def _cand(pr: Problem, k: int) -> Candidate:
    i = int(pr.c_asset[k])
    return Candidate(i, pr.assets[i].site_id, int(pr.c_day[k]), bool(pr.c_win[k]),
                     float(pr.c_cost[k]), float(pr.c_p[k]), bool(pr.c_forced[k]))  # fmt: skip


def jobs_of(pr: Problem, sol: Solution) -> list[PlannedJob]:
    jobs = []
    for i, k in sorted(sol.chosen.items(), key=lambda ik: (int(pr.c_day[ik[1]]), ik[0])):
        c, a = _cand(pr, k), pr.assets[i]
        jobs.append(
            PlannedJob.model_construct(
                asset_id=a.asset_id,
                component=a.component,
                site_id=a.site_id,
                day=pr.date_of(c.day),
                in_window=c.in_window,
                crew_id=pr.crews[sol.crew_of[(c.site, c.day)]].id,
                part=pr.cms[i].part,
                depot_id=pr.depot_of.get(i),
                hours=float(pr.hours[i]),
                committed=c.forced,
                explanation=explain(pr, i, k),
            )
        )
    return jobs
