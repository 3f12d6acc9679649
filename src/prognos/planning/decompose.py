"""Large plans by decomposition: regions planned and bounded side by side, then joined.

Regions that share a depot form a cluster (:func:`slices.clusters`); a crew plans in its home
cluster only, so the clusters' plans join into one feasible plan. Clusters are grouped into
*units* of work; each unit is two plain slices and one plain function (:func:`solve_unit`),
so units run in this process, on a ``concurrent.futures`` executor or on a Dask client.

A unit, cluster by cluster side by side:

1. a min-cost-flow relaxation (:mod:`flowbound`) gives a first bound and first prices;
2. the Lagrangian bound by day (:mod:`lagrange`), its steps aimed a little above the flow
   bound (measured: as good a target as a plan's cost, and no plan is needed first);
3. the plan: one day-by-day pass (:mod:`daylns`) with the components' prices added to their
   costs (a component that is worth more elsewhere waits), then day-by-day re-planning at true
   costs until the time is up. On the 10,000-asset benchmark this plan costs 1 % less than
   day-by-day re-planning from nothing.

The bound of a unit lets every crew work in every cluster it reaches (each cluster gets a copy
of the neighbouring crews), so the clusters' bounds add up to a bound on the whole problem.
Joined, the plan gets one more day-by-day pass in which crews may help in neighbouring
clusters, as long as time is left.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from prognos.planning import slices
from prognos.planning.daylns import DayPlanner
from prognos.planning.flowbound import flow_bound
from prognos.planning.lagrange import bound_slice
from prognos.planning.problem import Problem, Solution

BOUND_METHOD = "lagrangian-by-day"  # Lagrangian relaxation, exact day problems (see lagrange)
TARGET = 1.025  # where the bound's steps aim, relative to the flow bound
BOUND_SHARE = 0.5  # of a unit's time after the flow bound, for the Lagrangian bound
BOUND_ITERATIONS = 40  # at most: later steps gain little (10k assets: 20 steps 439.7 M, 30 440.3 M)
PASS_SECONDS_PER_CANDIDATE = (
    1e-5  # one day-by-day pass over the joined plan (measured: 10k assets, 220k candidates, ~1 s)
)


@dataclass
class UnitResult:
    cand: np.ndarray  # problem candidate per component of the unit, or -1
    comp: np.ndarray  # the unit's components (problem indices)
    groups: np.ndarray  # problem site-days the unit visits
    crews: np.ndarray  # crew per visited site-day
    objective: float
    bound: float
    flow: float
    cpu_s: float


def solve_unit(
    plan_slice: slices.Slice,
    bound_slice_: slices.Slice,
    budget_s: float,
    sent_at: float | None = None,
) -> UnitResult:
    """Plan and bound one unit within ``budget_s`` seconds of ``sent_at`` (wall-clock time when
    it was sent; default now). Plain data in and out, so it runs on a Dask worker as well."""
    t0, c0 = time.perf_counter(), time.process_time()
    end = t0 + budget_s - (0.0 if sent_at is None else max(0.0, time.time() - sent_at))
    nb = int(bound_slice_.block.max()) + 1 if bound_slice_.n else 1
    pi0, flow = np.zeros(bound_slice_.n), np.zeros(nb)
    for b in range(nb):
        keep = bound_slice_.block == b
        flow[b], pi0[keep] = flow_bound(slices.part(bound_slice_, keep))
    # the steps aim 2.5 % above the flow bound: as good a target as a first plan, and free
    left = end - time.perf_counter()
    bound, pi = bound_slice(bound_slice_, TARGET * flow, pi0, time_limit_s=BOUND_SHARE * left,
                            max_iter=BOUND_ITERATIONS)  # fmt: skip
    bound = np.maximum(bound, flow)
    best = _seeded(plan_slice, pi, bound_slice_, end)
    picked = best.assign >= 0
    visited = np.flatnonzero(best.crew >= 0)
    return UnitResult(
        cand=np.where(picked, plan_slice.cand[np.maximum(best.assign, 0)], -1),
        comp=plan_slice.comp,
        groups=plan_slice.group[visited],
        crews=best.crew[visited],
        objective=best.objective,
        bound=float(bound.sum()),
        flow=float(flow.sum()),
        cpu_s=time.process_time() - c0,
    )


def _seeded(sl: slices.Slice, pi: np.ndarray, bsl: slices.Slice, end: float) -> DayPlanner:
    """One day-by-day pass at priced costs, then day-by-day re-planning at true costs."""
    price = np.zeros(sl.n)
    at = {int(c): k for k, c in enumerate(bsl.comp.tolist())}
    price[:] = [pi[at[int(c)]] for c in sl.comp.tolist()]
    priced = slices.Slice(**sl.__dict__)
    priced.c_cost = sl.c_cost + price[sl.c_asset]
    seed = DayPlanner(priced)
    seed.run(end, max_passes=1)
    dp = DayPlanner(sl)
    dp.seed(seed.assign, seed.crew)
    dp.run(end, backward_first=True, min_passes=2)
    return dp


def units(
    pr: Problem, n_units: int
) -> tuple[list[tuple[slices.Slice, slices.Slice]], slices.Index]:
    """The problem cut into ``n_units`` units of whole clusters, of similar size."""
    ix = slices.index(pr)
    comp_block, crew_block = slices.blocks(pr)
    sizes = np.bincount(comp_block[comp_block >= 0])
    unit_of = np.zeros(len(sizes), int)
    load = np.zeros(max(n_units, 1))
    for b in np.argsort(-sizes):  # largest first, onto the lightest unit
        unit_of[b] = int(np.argmin(load))
        load[unit_of[b]] += sizes[b]
    out = []
    for u in range(max(n_units, 1)):
        comps = np.flatnonzero(unit_of[comp_block] == u)
        if not len(comps):
            continue
        local_block = np.unique(comp_block[comps], return_inverse=True)[1]
        block = np.full(len(pr.assets), -1)
        block[comps] = local_block
        crews = np.flatnonzero((crew_block >= 0) & (unit_of[np.maximum(crew_block, 0)] == u))
        cb = np.full(len(pr.crews), -2)
        cb[crews] = _crew_local(comp_block, crew_block, crews, comps, local_block)
        plan_sl = slices.cut(pr, ix, comps, crews, block, cb)
        bound_sl = slices.copies(slices.cut(pr, ix, comps, None, block))
        out.append((plan_sl, bound_sl))
    return out, ix


def _crew_local(comp_block, crew_block, crews, comps, local_block) -> np.ndarray:
    lookup = dict(zip(comp_block[comps].tolist(), local_block.tolist(), strict=True))
    return np.array([lookup[int(crew_block[j])] for j in crews], int)


def plan_large(pr: Problem, time_limit_s: float, executor=None, n_units: int | None = None):
    """(solution, objective, bound, details) for a large problem, in about ``time_limit_s``."""
    t0 = time.perf_counter()
    n_units = n_units or (1 if executor is None else _workers(executor))
    work, ix = units(pr, n_units)
    t_cut = time.perf_counter() - t0
    budget = max(0.5, 0.93 * (time_limit_s - (time.perf_counter() - t0)))
    results = _map(executor, solve_unit, [w[0] for w in work], [w[1] for w in work],
                   [budget] * len(work), [time.time()] * len(work))  # fmt: skip
    cand = np.full(len(pr.assets), -1)
    crew_of_group = np.full(len(ix.g_day), -1)
    for r in results:
        cand[r.comp] = r.cand
        crew_of_group[r.groups] = r.crews
    objective = float(sum(r.objective for r in results))
    bound = float(sum(r.bound for r in results))
    t_units = time.perf_counter() - t0 - t_cut
    left = time_limit_s - (time.perf_counter() - t0)
    # crews may now help in neighbouring clusters, if a pass over everything fits in the time
    if left > 0.5 and pr.n_cands * PASS_SECONDS_PER_CANDIDATE < left:
        everything = slices.cut(pr, ix, np.arange(len(pr.assets)))  # candidates, site-days: all
        dp = DayPlanner(everything)
        dp.seed(cand, crew_of_group)
        dp.run(time.perf_counter() + left - 0.2, min_passes=0)
        if dp.objective < objective:
            objective = dp.objective
            cand = np.where(dp.assign >= 0, everything.cand[np.maximum(dp.assign, 0)], -1)
            crew_of_group = np.full(len(ix.g_day), -1)
            crew_of_group[everything.group] = dp.crew
    chosen = {int(i): int(k) for i, k in enumerate(cand.tolist()) if k >= 0}
    crew_of = {}
    for k in chosen.values():
        g = int(ix.c_group[k])
        crew_of[(pr.sites[int(ix.g_site[g])], int(ix.g_day[g]))] = int(crew_of_group[g])
    details = {
        "units": len(work),
        "flow_bound": float(sum(r.flow for r in results)),
        "unit_cpu_seconds": round(float(sum(r.cpu_s for r in results)), 2),
        "cut_seconds": round(t_cut, 2),
        "units_seconds": round(t_units, 2),
        "joined_pass_seconds": round(time.perf_counter() - t0 - t_cut - t_units, 2),
    }
    return Solution(chosen, crew_of), objective, bound, details


def _workers(executor) -> int:
    if hasattr(executor, "nthreads"):  # a Dask client
        return max(1, sum(executor.nthreads().values()))
    return max(1, getattr(executor, "_max_workers", 2))


def _map(executor, fn, *iterables) -> list:
    if executor is None:
        return [fn(*a) for a in zip(*iterables, strict=True)]
    if hasattr(executor, "gather"):  # a Dask client: the slices go to the workers first
        args = [executor.scatter(list(x)) if i < 2 else list(x) for i, x in enumerate(iterables)]
        return executor.gather(executor.map(fn, *args, pure=False))
    return list(executor.map(fn, *iterables))


def day_plan(pr: Problem, time_limit_s: float) -> tuple[Solution, float]:
    """Day-by-day re-planning of the whole problem from nothing: a hint for CP-SAT."""
    ix = slices.index(pr)
    sl = slices.cut(pr, ix, np.arange(len(pr.assets)))  # all candidates and site-days, in order
    dp = DayPlanner(sl)
    dp.run(time.perf_counter() + time_limit_s)
    chosen = {int(i): int(k) for i, k in enumerate(dp.assign.tolist()) if k >= 0}
    crew_of = {
        (pr.sites[int(ix.g_site[g])], int(ix.g_day[g])): int(j)
        for g, j in enumerate(dp.crew.tolist())
        if j >= 0
    }
    return Solution(chosen, crew_of), dp.objective
