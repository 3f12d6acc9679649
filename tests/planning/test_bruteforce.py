"""On tiny random worlds the solver's plan equals the best of all plans, enumerated by hand."""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import pytest
from planning_world import NOW, calendar, cost_model, crew, forecast

from prognos.domain.planning import PlanAsset, Travel
from prognos.planning.calendar import day_profile
from prognos.planning.model import build
from prognos.planning.optimizer import Solution, greedy, lp_bound, plan

H = 14


def world(seed):
    rng = np.random.default_rng(seed)
    assets = [
        PlanAsset(asset_id=f"a{k}", site_id=f"s{k % 2}", region="r1", asset_type="pump")
        for k in range(3)
    ]
    fcs = {}
    for a in assets:
        mid = rng.uniform(4, 16)
        fcs[a.key] = forecast(a.key, mid - rng.uniform(1, 3), mid, mid + rng.uniform(1, 3))
    cals = {s: calendar(stop_days=(3, 7, 10), site=s) for s in ("s0", "s1")}
    crews = [crew("c1", hours=10.0, callout=float(rng.uniform(0, 6000)))]
    return fcs, assets, cals, crews


def brute_force(pr) -> float:
    """Every combination of one candidate or nothing per asset, checked against the rules."""
    best = np.inf
    options = [[None, *ks] for ks in pr.by_asset]
    for pick in itertools.product(*options):
        load, cost = defaultdict(float), float(pr.none_cost.sum())
        for i, k in enumerate(pick):
            if k is not None:
                c = pr.cands[k]
                load[(c.site, c.day)] += pr.hours[i]
                cost += c.cost - pr.none_cost[i]
        days = [d for (_, d) in load]
        if len(days) != len(set(days)):  # one crew: one site a day
            continue
        for key, h in load.items():
            opts = pr.visits[key]
            if not opts or h > opts[0][1]:
                break
            cost += opts[0][2]
        else:
            best = min(best, cost)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_solver_matches_enumeration(seed):
    fcs, assets, cals, crews = world(seed)
    costs = {"pump": cost_model()}
    profiles = {s: day_profile(c, NOW.date(), H + 1) for s, c in cals.items()}
    pr = build(fcs, assets, profiles, crews, [], costs, (), Travel(), NOW.date(), H)
    exact = brute_force(pr)
    p = plan(fcs, assets, cals, crews, [], costs, now=NOW, horizon_days=H, time_limit_s=5.0)
    assert p.objective == pytest.approx(exact, rel=1e-6, abs=1.0)
    assert p.lower_bound <= p.objective + 1e-6
    assert lp_bound(pr) <= exact + 1e-6
    g: Solution = greedy(pr)
    assert g.objective(pr) >= exact - 1e-6
