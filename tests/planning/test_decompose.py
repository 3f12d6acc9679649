"""The decomposition on worlds small enough to solve exactly: its bound is a bound, its plan a plan.

Two regions, each with its own crew, depot and two sites; the regions' crews can also reach the
other region (with less time there). CP-SAT proves the optimum; the decomposition's Lagrangian
bound must lie below it, and its plan above it and within every rule (checked here, by hand).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from planning_world import NOW, calendar, cost_model, forecast

from prognos.domain.planning import CostModel, Crew, PartStock, PlanAsset, Travel
from prognos.planning.calendar import day_profile
from prognos.planning.decompose import plan_large
from prognos.planning.exact import greedy, solve_cpsat
from prognos.planning.model import build

H = 21


def world(seed: int, committed=()):
    rng = np.random.default_rng(seed)
    assets, fcs = [], {}
    for r in ("r1", "r2"):
        for s in range(2):
            for k in range(int(rng.integers(2, 5))):
                kind = "pump" if rng.random() < 0.5 else "belt"
                a = PlanAsset(
                    asset_id=f"{r}s{s}{kind}{k}", site_id=f"{r}s{s}", region=r, asset_type=kind
                )
                mid = rng.uniform(5, 30)
                fcs[a.key] = forecast(a.key, mid * 0.6, mid, mid * 1.5)
                assets.append(a)
    cals = {
        a.site_id: calendar(stop_days=tuple(rng.choice(H, 3, replace=False)), site=a.site_id)
        for a in assets
    }
    profiles = {s: day_profile(c, NOW.date(), H + 1) for s, c in cals.items()}
    crews = [
        Crew(id=f"c-{r}", skills={"pump", "belt"}, home_region=r, hours_per_day=10.0,
             working_weekdays={0, 1, 2, 3, 4, 5}, cost_per_hour=50.0, callout_cost=300.0)
        for r in ("r1", "r2")
    ]  # fmt: skip
    belt = CostModel(asset_type="belt", part="B1", unplanned_stoppage_cost_per_hour=2000.0,
                     unplanned_repair_hours=6.0, planned_job_hours=2.0, part_cost=800.0,
                     labour_cost_per_hour=0.0, wasted_life_cost_per_unit=100.0)  # fmt: skip
    costs = {"pump": cost_model(), "belt": belt}
    stock = [
        PartStock(depot_id=f"D-{r}", part="P1", on_hand=1, lead_time_days=7, regions={r})
        for r in ("r1", "r2")
    ]
    travel = Travel(hours_between={"r1|r2": 2.5}, same_region=1.0)
    return build(fcs, assets, profiles, crews, stock, costs, committed, travel, NOW.date(), H)


def check_feasible(pr, sol) -> None:
    """Every rule, from the problem's own arrays: visit, skill, hours, one site a day, parts."""
    load, crew_days = defaultdict(float), defaultdict(set)
    for i, k in sol.chosen.items():
        assert pr.c_asset[k] == i
        key = (pr.sites[pr.site_of[i]], int(pr.c_day[k]))
        j = sol.crew_of[key]
        opts = {o[0]: o for o in pr.visits[key]}
        assert j in opts and pr.assets[i].asset_type in pr.crews[j].skills
        load[key] += pr.hours[i]
        assert load[key] <= opts[j][1] + 1e-9
        crew_days[(j, key[1])].add(key[0])
    assert all(len(s) == 1 for s in crew_days.values())
    for _, _, cap, idx in pr.parts:
        assert sum(1 for k in idx if k in set(sol.chosen.values())) <= cap


@pytest.mark.parametrize("seed", range(5))
def test_lagrangian_bound_below_the_optimum_and_plan_above_it(seed):
    pr = world(seed)
    found, status, _ = solve_cpsat(pr, greedy(pr), 20.0, 2)
    assert status == "optimal"
    optimum = found.objective(pr)
    sol, objective, bound, details = plan_large(pr, 30.0, n_units=2)
    check_feasible(pr, sol)
    assert objective == pytest.approx(sol.objective(pr), rel=1e-9)
    assert details["flow_bound"] <= bound + 1e-6
    assert bound <= optimum + 1e-6 <= objective + 2e-6
    assert bound >= pr.relaxed_bound - 1e-6


def _run(pr, executor=None):
    sol, objective, bound, _ = plan_large(pr, 60.0, executor=executor, n_units=2)
    return sol.chosen, sol.crew_of, round(objective, 6), round(bound, 6)


def test_units_run_on_dask_workers_to_the_same_plan():
    from distributed import Client, LocalCluster

    pr = world(7)
    here = _run(pr)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                     host="127.0.0.1") as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        there = _run(pr, client)
    assert there == here
    assert here[0]  # a plan with jobs, not two empty ones


def test_a_committed_visit_by_a_neighbouring_crew_is_kept():
    from prognos.domain.planning import WorkOrder, WorkOrderStatus

    pr0 = world(3)
    # the r1 crew is committed to a job in r2, on a day its own region could use it too
    i = next(i for i, a in enumerate(pr0.assets) if a.region == "r2" and a.asset_type == "belt")
    a = pr0.assets[i]
    day = int(pr0.c_day[pr0.a_ptr[i]])
    order = WorkOrder(id="wo-1", asset_id=a.asset_id, site_id=a.site_id, day=pr0.date_of(day),
                      crew_id="c-r1", status=WorkOrderStatus.dispatched)  # fmt: skip
    pr = world(3, committed=[order])
    sol, objective, bound, _ = plan_large(pr, 30.0, n_units=2)
    check_feasible(pr, sol)
    k = sol.chosen[i]
    assert pr.c_forced[k] and sol.crew_of[(a.site_id, int(pr.c_day[k]))] == 0
    assert bound <= objective + 1e-6
