"""The planning problem as candidates and visits, built once and handed to every solver.

A *candidate* is one way to replace one component: a (site, day) with its expected cost. A
*visit* is one crew at one site on one day; every job needs a visit whose crew has the skill,
a visit's jobs must fit the crew's hours after travel there and back, a crew makes one visit a
day, and a site gets one crew a day. Parts drawn before a depot's reorder lead time must be on
hand. Committed orders the plan keeps are candidates forced to one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

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


@dataclass
class Candidate:
    asset: int
    site: str
    day: int
    in_window: bool
    cost: float
    p_fail: float
    forced: bool = False
    crew: int | None = None  # forced crew


@dataclass
class Problem:
    today: date
    horizon: int
    assets: list[PlanAsset]
    cms: list[CostModel]
    crews: list[Crew]
    hours: np.ndarray
    none_cost: np.ndarray
    none_p: np.ndarray
    cands: list[Candidate] = field(default_factory=list)
    by_asset: list[list[int]] = field(default_factory=list)
    # (site, day) -> [(crew index, hours available for jobs, visit cost)]
    visits: dict[tuple[str, int], list[tuple[int, float, float]]] = field(default_factory=dict)
    parts: list[tuple[str, str, int, list[int]]] = field(default_factory=list)  # depot, part, cap
    depot_of: dict[int, str] = field(default_factory=dict)  # asset -> depot id
    released: list[str] = field(default_factory=list)
    relaxed_bound: float = float("-inf")

    def date_of(self, day: int) -> date:
        return self.today + timedelta(days=day)


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
) -> Problem:
    """Candidates (pruned to those cheaper than doing nothing), visits and part limits."""
    assets = [a for a in assets if a.key in forecasts]
    cms = [_cost_model(costs, a) for a in assets]
    n, h = len(assets), horizon
    pr = Problem(
        today,
        h,
        assets,
        cms,
        list(crews),
        np.array([c.planned_job_hours for c in cms]),
        np.zeros(n),
        np.zeros(n),
    )
    orders = {o.key: o for o in committed if o.status in _LIVE}
    unknown = set(orders) - {a.key for a in assets}
    if unknown:
        raise ValidationFailed(
            f"committed orders name assets without a forecast: {sorted(unknown)}"
        )
    use, win, black = _site_days(assets, profiles, today, h)
    f, tail = _fail_and_tail([forecasts[a.key] for a in assets], use)
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
    emergency = h if emergency_days is None else earliest_day + emergency_days
    ok = (days >= earliest_day) & ~black & (win | (days < emergency))
    forced: dict[int, tuple[int, WorkOrder]] = {}
    index = {a.key: i for i, a in enumerate(assets)}
    for key, order in orders.items():
        i, keep = index[key], _committed_day(order, today)
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
    site_types: dict[tuple[str, int], set[str]] = defaultdict(set)
    pr.by_asset = [[] for _ in range(n)]
    for i, d in zip(*np.nonzero(cand), strict=True):
        a, fx = assets[i], forced.get(int(i))
        crew = _crew_index(crews, fx[1].crew_id) if fx else None
        pr.cands.append(
            Candidate(
                int(i),
                a.site_id,
                int(d),
                bool(win[i, d]),
                float(cost[i, d]),
                float(p[i, d]),
                fx is not None,
                crew,
            )
        )
        pr.by_asset[i].append(len(pr.cands) - 1)
        site_types[(a.site_id, int(d))].add(a.asset_type)
    _visits(pr, site_types, travel)
    _parts(pr, stock)
    _check_forced(pr)
    return pr


def _site_days(assets, profiles, today: date, h: int):
    """Per asset: usage before each day (h + 1), window and blackout flags (h)."""
    cache = {}
    for a in assets:
        if a.site_id in cache:
            continue
        prof = profiles.get(a.site_id)
        if prof is None:
            raise ValidationFailed(f"no calendar for site {a.site_id}")
        off = (today - prof.start).days
        if off < 0 or off + h + 1 > len(prof.production_hours):
            raise ValidationFailed(f"calendar of site {a.site_id} does not cover the horizon")
        use = prof.usage_before()[off : off + h + 1]
        cache[a.site_id] = (use - use[0], prof.window[off : off + h], prof.blackout[off : off + h])
    rows = [cache[a.site_id] for a in assets]
    if not rows:
        return np.zeros((0, h + 1)), np.zeros((0, h), bool), np.zeros((0, h), bool)
    return tuple(np.array([r[k] for r in rows]) for k in range(3))


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
_FIXED = {WorkOrderStatus.dispatched, WorkOrderStatus.in_progress}


def _committed_day(order: WorkOrder | None, today: date) -> int | None:
    return None if order is None else (order.day - today).days


def _crew_index(crews: Sequence[Crew], crew_id: str | None) -> int | None:
    if crew_id is None:
        return None
    for j, c in enumerate(crews):
        if c.id == crew_id:
            return j
    raise Infeasible(f"crew {crew_id} of a committed order is not among the crews")


def _visits(pr: Problem, site_types: dict, travel: Travel) -> None:
    region = {a.site_id: a.region for a in pr.assets}
    for (site, day), types in site_types.items():
        wd = pr.date_of(day).weekday()
        opts = []
        for j, c in enumerate(pr.crews):
            t = travel.hours(c.home_region, region[site])
            cap = c.hours_per_day - 2 * t
            if wd in c.working_weekdays and cap > 0 and c.skills & types:
                opts.append((j, cap, 2 * t * c.cost_per_hour + c.callout_cost))
        pr.visits[(site, day)] = opts


def _parts(pr: Problem, stock: Sequence[PartStock]) -> None:
    serves: dict[tuple[str, str], str] = {}
    for s in stock:
        for r in s.regions:
            serves.setdefault((s.part, r), s.depot_id)
    for i, (a, cm) in enumerate(zip(pr.assets, pr.cms, strict=True)):
        if (cm.part, a.region) in serves:
            pr.depot_of[i] = serves[(cm.part, a.region)]
    by_depot: dict[tuple[str, str], list[int]] = defaultdict(list)
    for k, c in enumerate(pr.cands):
        if c.asset in pr.depot_of:
            by_depot[(pr.depot_of[c.asset], pr.cms[c.asset].part)].append(k)
    for s in stock:
        idx = [k for k in by_depot[(s.depot_id, s.part)] if pr.cands[k].day < s.lead_time_days]
        if idx:
            pr.parts.append((s.depot_id, s.part, s.on_hand, idx))


def _check_forced(pr: Problem) -> None:
    """Name the constraint that committed orders break, before any solver sees them."""
    load: dict[tuple[str, int], float] = defaultdict(float)
    crew_at: dict[tuple[str, int], set[int]] = defaultdict(set)
    for c in (c for c in pr.cands if c.forced):
        a, key = pr.assets[c.asset], (c.site, c.day)
        load[key] += pr.hours[c.asset]
        if c.crew is not None:
            crew = pr.crews[c.crew]
            if a.asset_type not in crew.skills:
                raise Infeasible(
                    f"crew {crew.id} lacks the skill {a.asset_type} for {a.key}",
                    hint="assign a crew with that skill",
                )
            if pr.date_of(c.day).weekday() not in crew.working_weekdays:
                raise Infeasible(
                    f"crew {crew.id} does not work on {pr.date_of(c.day)} (working hours)",
                    hint="pick one of its working days",
                )
            crew_at[key].add(c.crew)
    for key, crews in crew_at.items():
        if len(crews) > 1:
            raise Infeasible(
                f"site {key[0]} gets {len(crews)} crews on {pr.date_of(key[1])}; "
                "one crew per site and day"
            )
        pr.visits[key] = [v for v in pr.visits[key] if v[0] in crews]
    by_crew_day: dict[tuple[int, int], set[str]] = defaultdict(set)
    for (site, day), crews in crew_at.items():
        for j in crews:
            by_crew_day[(j, day)].add(site)
    for (j, day), sites in by_crew_day.items():
        if len(sites) > 1:
            raise Infeasible(
                f"crew {pr.crews[j].id} is sent to {len(sites)} sites on "
                f"{pr.date_of(day)}; a crew visits one site a day"
            )
    for key, h in load.items():
        cap = max((v[1] for v in pr.visits.get(key, [])), default=0.0)
        if h > cap + 1e-9:
            raise Infeasible(
                f"committed jobs at site {key[0]} on {pr.date_of(key[1])} need "
                f"{h:g} h but the crew capacity there is {cap:g} h (crew capacity)",
                hint="move some orders to another day",
            )
    for depot, part, cap, idx in pr.parts:
        n = sum(1 for k in idx if pr.cands[k].forced)
        if n > cap:
            raise Infeasible(
                f"committed orders draw {n} x {part} from depot {depot} before the "
                f"reorder lead time, but {cap} are on hand (parts on hand)",
                hint="order parts earlier or move orders past the lead time",
            )
