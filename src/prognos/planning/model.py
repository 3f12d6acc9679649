"""Build the planning problem once (see :mod:`prognos.planning.problem`) and hand it to every solver.

Every job needs a visit whose crew has the skill, a visit's jobs must fit the crew's hours after
travel there and back, a crew makes one visit a day, and a site gets one crew a day. Parts drawn
before a depot's reorder lead time must be on hand. Committed orders the plan keeps are
candidates forced to one.

Day ``d`` is the date ``today + d`` read in each site's own time zone: ``local_today`` gives
each site's date at the moment of planning, and a site whose local date is ahead of ``today``
(east of the reference) counts its usage, and its earliest day, from its own today.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np

from prognos.domain.forecast import FailureForecast
from prognos.domain.planning import (
    CostModel,
    Crew,
    PartStock,
    PlanAsset,
    Travel,
    WorkOrder,
    WorkOrderStatus,
)
from prognos.errors import Infeasible, ValidationFailed
from prognos.planning.calendar import DayProfile
from prognos.planning.costs import batch_fail_and_tail
from prognos.planning.problem import Candidate, Problem
from prognos.planning.visits import check_forced, part_limits, visit_options

__all__ = ["Candidate", "Problem", "build"]


def _cost_model(costs: Mapping[str, CostModel], a: PlanAsset) -> CostModel:
    for k in (a.key, a.asset_id, a.asset_type):
        if k in costs:
            return costs[k]
    raise ValidationFailed(f"no cost model for asset {a.key} (type {a.asset_type})")


def build(
    forecasts: Mapping[str, FailureForecast],
    assets: Sequence[PlanAsset],
    profiles: Mapping[str, DayProfile],
    crews: Sequence[Crew],
    stock: Sequence[PartStock],
    costs: Mapping[str, CostModel],
    committed: Sequence[WorkOrder],
    travel: Travel,
    today: date,
    horizon: int,
    earliest_day: int = 1,
    emergency_days: int | None = None,
    release_factor: float = 1.25,
    move_penalty: float = 0.01,
    max_candidates: int | None = None,
    local_today: Mapping[str, date] | None = None,
) -> Problem:
    """Candidates (pruned to those cheaper than doing nothing), visits and part limits."""
    assets = [a for a in assets if a.key in forecasts]
    cms = [_cost_model(costs, a) for a in assets]
    n, h = len(assets), horizon
    pr = Problem(today, h, assets, cms, list(crews),
                 np.array([c.planned_job_hours for c in cms], float), np.zeros(n), np.zeros(n))  # fmt: skip
    orders = {o.key: o for o in committed if o.status in _LIVE}
    unknown = set(orders) - {a.key for a in assets}
    if unknown:
        raise ValidationFailed(
            f"committed orders name assets without a forecast: {sorted(unknown)}"
        )
    _index_sites(pr)
    use, win, black, first, clock = _site_days(
        pr, profiles, today, h, earliest_day, local_today or {}
    )
    fcs = [forecasts[a.key] for a in assets]
    f, tail = _fail_and_tail(fcs, _usage(fcs, use, clock))
    cu = np.array([c.unplanned_cost for c in cms])
    cin = np.array([c.planned_cost(True) for c in cms])
    cout = np.array([c.planned_cost(False) for c in cms])
    w = np.array([c.wasted_life_cost_per_unit for c in cms])
    p = f[:, :h]
    cost = p * cu[:, None] + (1 - p) * np.where(win, cin[:, None], cout[:, None])
    cost += w[:, None] * tail[:, :h]
    pr.none_cost = f[:, h] * cu + (1 - f[:, h]) * cin + w * tail[:, h]
    pr.none_p = f[:, h].copy()
    days = np.arange(h)
    emergency = first + (h if emergency_days is None else emergency_days)
    ok = (days >= first[:, None]) & ~black & (win | (days < emergency[:, None]))
    forced: dict[int, tuple[int, WorkOrder]] = {}
    index = {a.key: i for i, a in enumerate(assets)}
    for key, order in orders.items():
        i, keep = index[key], (order.day - today).days
        if order.status is WorkOrderStatus.scheduled:
            cost[i] += move_penalty * cin[i] * (days != keep)
            continue
        if not 0 <= keep < h:
            raise Infeasible(f"order {order.id} on {order.day} lies outside the planning horizon")
        if order.status is WorkOrderStatus.dispatched:
            alt = cost[i][ok[i]]
            best = min(pr.none_cost[i], float(alt.min()) if len(alt) else np.inf)
            if cost[i, keep] > release_factor * best:
                pr.released.append(order.id)
                continue
        if black[i, keep]:
            raise Infeasible(
                f"order {order.id} falls on a blackout day at site {order.site_id}",
                hint="move it or cancel it",
            )
        forced[i] = (keep, order)
    cand = ok & (cost < pr.none_cost[:, None])
    # each component at its own best day, ignoring crews, parts and visits: a valid bound
    pr.relaxed_bound = float(
        np.minimum(pr.none_cost, np.where(cand, cost, np.inf).min(axis=1, initial=np.inf)).sum()
    )
    if max_candidates is not None:  # keep each component's cheapest days only
        rank = np.argsort(np.argsort(np.where(cand, cost, np.inf), axis=1), axis=1)
        cand &= rank < max_candidates
    cand[list(forced)] = False
    for i, (keep, _) in forced.items():
        cand[i, keep] = True
    ca, cd = np.nonzero(cand)  # sorted by component, then day
    pr.c_asset, pr.c_day = ca, cd
    pr.c_win, pr.c_cost, pr.c_p = win[ca, cd], cost[ca, cd], p[ca, cd]
    pr.c_forced = np.zeros(len(ca), bool)
    pr.c_crew = np.full(len(ca), -1)
    for i, (_, order) in forced.items():
        k = int(np.searchsorted(ca, i))  # the forced component's only candidate
        pr.c_forced[k] = True
        pr.c_crew[k] = _crew_index(crews, order.crew_id)
    visit_options(pr, travel)
    part_limits(pr, stock)
    check_forced(pr)
    return pr


def _index_sites(pr: Problem) -> None:
    sites = sorted({a.site_id for a in pr.assets})
    regions = sorted({a.region for a in pr.assets})
    s_idx, r_idx = {s: k for k, s in enumerate(sites)}, {r: k for k, r in enumerate(regions)}
    pr.sites, pr.regions = sites, regions
    pr.site_of = np.array([s_idx[a.site_id] for a in pr.assets], int)
    pr.site_region = np.zeros(len(sites), int)
    for a in pr.assets:
        pr.site_region[s_idx[a.site_id]] = r_idx[a.region]
    types = sorted({a.asset_type for a in pr.assets})
    t_idx = {t: k for k, t in enumerate(types)}
    pr.type_of = np.array([t_idx[a.asset_type] for a in pr.assets], int)
    pr.skill_mask = np.array(
        [sum(1 << t_idx[s] for s in c.skills if s in t_idx) for c in pr.crews], int
    )


def _site_days(pr: Problem, profiles, today: date, h: int, earliest: int, local_today):
    """Per component: usage before each day (h + 1) counted from its site's own today, window
    and blackout flags (h), the first day a job may be planned, and calendar days before each
    day (h + 1, from the same today)."""
    rows = []
    for s in pr.sites:
        prof = profiles.get(s)
        if prof is None:
            raise ValidationFailed(f"no calendar for site {s}")
        off = (today - prof.start).days
        if off < 0 or off + h + 1 > len(prof.production_hours):
            raise ValidationFailed(f"calendar of site {s} does not cover the horizon")
        lag = max(0, min(h, (local_today.get(s, today) - today).days))
        use = prof.usage_before()[off : off + h + 1]
        rows.append((np.maximum(use - use[lag], 0.0), prof.window[off : off + h],
                     prof.blackout[off : off + h], lag + earliest,
                     np.maximum(np.arange(h + 1.0) - lag, 0.0)))  # fmt: skip
    if not rows:
        z = np.zeros((0, h + 1))
        return z, np.zeros((0, h), bool), np.zeros((0, h), bool), np.zeros(0), z
    stacked = [np.array([r[k] for r in rows]) for k in range(5)]
    return tuple(x[pr.site_of] for x in stacked)


def _usage(fcs: list[FailureForecast], use: np.ndarray, clock: np.ndarray) -> np.ndarray:
    """Each forecast's time before each day in its own unit: cycles are operating days of the
    site's calendar (a line that stands still does not wear); hours and days are the clock's,
    as the platform counts a part's age (``TimeUnit.seconds``): an elevator or a chain ages on
    idle days too, and counting only production days would put its end of life weeks late."""
    per_day = np.array([_CLOCK_PER_DAY.get(fc.time_unit, 0.0) for fc in fcs])
    return np.where(per_day[:, None] > 0, clock * per_day[:, None], use)


_CLOCK_PER_DAY = {"hours": 24.0, "days": 1.0}  # time units that count the clock, not usage


def _fail_and_tail(fcs: list[FailureForecast], use: np.ndarray):
    f, tail = np.zeros(use.shape), np.zeros(use.shape)
    groups: dict[tuple[float, ...], list[int]] = defaultdict(list)
    for i, fc in enumerate(fcs):
        groups[fc.levels].append(i)
    for levels, idx in groups.items():
        vals = np.array([fcs[i].values for i in idx])
        upper = np.array([fcs[i].upper_tail for i in idx])
        shape = np.array([fcs[i].lower_tail_shape for i in idx])
        f[idx], tail[idx] = batch_fail_and_tail(vals, np.array(levels), upper, use[idx], shape)
    return f, tail


_LIVE = {WorkOrderStatus.scheduled, WorkOrderStatus.dispatched, WorkOrderStatus.in_progress}


def _crew_index(crews: Sequence[Crew], crew_id: str | None) -> int:
    if crew_id is None:
        return -1
    for j, c in enumerate(crews):
        if c.id == crew_id:
            return j
    raise Infeasible(f"crew {crew_id} of a committed order is not among the crews")
