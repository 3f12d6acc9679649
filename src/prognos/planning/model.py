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
from prognos.planning.costs import expected_costs, no_job_cost


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
    emergency_days: int = 3,
    release_factor: float = 1.25,
    move_penalty: float = 0.01,
) -> Problem:
    """Candidates (pruned to those cheaper than doing nothing), visits and part limits."""
    assets = [a for a in assets if a.key in forecasts]
    cms = [_cost_model(costs, a) for a in assets]
    pr = Problem(
        today,
        horizon,
        assets,
        cms,
        list(crews),
        np.zeros(len(assets)),
        np.zeros(len(assets)),
        np.zeros(len(assets)),
    )
    orders = {o.key: o for o in committed if o.status in _LIVE}
    unknown = set(orders) - {a.key for a in assets}
    if unknown:
        raise ValidationFailed(
            f"committed orders name assets without a forecast: {sorted(unknown)}"
        )
    site_types: dict[tuple[str, int], set[str]] = defaultdict(set)
    for i, (a, cm) in enumerate(zip(assets, cms, strict=True)):
        prof = profiles.get(a.site_id)
        if prof is None:
            raise ValidationFailed(f"no calendar for site {a.site_id}")
        off = (today - prof.start).days
        if off < 0 or off + horizon + 1 > len(prof.production_hours):
            raise ValidationFailed(f"calendar of site {a.site_id} does not cover the horizon")
        use = prof.usage_before()[off : off + horizon + 1]
        use = use - use[0]
        win = prof.window[off : off + horizon]
        black = prof.blackout[off : off + horizon]
        fc = forecasts[a.key]
        pr.hours[i] = cm.planned_job_hours
        pr.none_cost[i], pr.none_p[i] = no_job_cost(fc, float(use[horizon]), cm)
        days = np.arange(horizon)
        ok = (days >= earliest_day) & ~black & (win | (days < earliest_day + emergency_days))
        order = orders.get(a.key)
        cand_days = days[ok]
        cost, p = expected_costs(fc, use[cand_days], cm, win[cand_days])
        keep = _committed_day(order, today)
        if order is not None and order.status is WorkOrderStatus.scheduled:
            cost = cost + move_penalty * cm.planned_cost(True) * (cand_days != keep)
        pr.by_asset.append([])
        forced = order is not None and order.status in _FIXED and keep is not None
        if forced and order.status is WorkOrderStatus.dispatched:
            kc, _ = expected_costs(fc, use[[keep]], cm, win[[keep]])
            best = min(pr.none_cost[i], float(cost.min()) if len(cost) else np.inf)
            if kc[0] > release_factor * best:
                forced = False
                pr.released.append(order.id)
        if forced:
            if black[keep]:
                raise Infeasible(
                    f"order {order.id} falls on a blackout day at site {a.site_id}",
                    hint="move it or cancel it",
                )
            kc, kp = expected_costs(fc, use[[keep]], cm, win[[keep]])
            crew = _crew_index(crews, order.crew_id)
            pr.cands.append(
                Candidate(
                    i, a.site_id, keep, bool(win[keep]), float(kc[0]), float(kp[0]), True, crew
                )
            )
            pr.by_asset[i].append(len(pr.cands) - 1)
            site_types[(a.site_id, keep)].add(a.asset_type)
            continue
        for d, c, q in zip(cand_days, cost, p, strict=True):
            if c < pr.none_cost[i]:
                pr.cands.append(Candidate(i, a.site_id, int(d), bool(win[d]), float(c), float(q)))
                pr.by_asset[i].append(len(pr.cands) - 1)
                site_types[(a.site_id, int(d))].add(a.asset_type)
    _visits(pr, site_types, travel)
    _parts(pr, stock)
    _check_forced(pr)
    return pr


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
    for i, (a, cm) in enumerate(zip(pr.assets, pr.cms, strict=True)):
        for s in stock:
            if s.part == cm.part and a.region in s.regions:
                pr.depot_of[i] = s.depot_id
                break
    for s in stock:
        idx = [
            k
            for k, c in enumerate(pr.cands)
            if pr.depot_of.get(c.asset) == s.depot_id
            and pr.cms[c.asset].part == s.part
            and c.day < s.lead_time_days
        ]
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
