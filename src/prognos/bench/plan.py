"""Benchmark: plan. Two simulated years of a fleet under four maintenance policies, and a
planner scale test.

    prognos bench plan --json            # 50 customers, 550 assets, 730 days, 4 policies
    prognos bench plan --scale --json    # one plan: 10,000 assets, 500 customers, 90 days, 50 crews
    prognos bench plan --scale --assets 100000 --json   # 5,000 customers, 500 crews
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any


def _context(seed: int, data_dir: Path | None):
    import numpy as np

    from prognos.bench._forecasters import ChainForecaster, TurbofanForecaster
    from prognos.bench._policies import Context
    from prognos.planning.calendar import day_profile, from_ics
    from prognos.sim.world import CHAIN, TURBOFAN, build_world, training_chains

    w = build_world(seed, data_dir=data_dir)
    pad = 120
    until = w.start + timedelta(days=w.n_days + pad + 2)
    from datetime import UTC, datetime

    until_dt = datetime.combine(until, datetime.min.time(), UTC)
    profiles = {
        s: day_profile(from_ics(text, s, until=until_dt), w.start, w.n_days + pad)
        for s, text in w.ics.items()
    }
    days = np.array([(w.start + timedelta(days=d)).weekday() for d in range(w.n_days + pad)])
    crew_days = {}
    for c in w.crews:
        crew_days.setdefault(c.home_region, set()).update(c.working_weekdays)
    workable = np.array(
        [profiles[s.id].window & np.isin(days, list(crew_days[s.region])) for s in w.sites]
    )
    usage = np.array(
        [
            np.append(
                profiles[s.id].usage_before(),
                profiles[s.id].usage_before()[-1] + profiles[s.id].operating[-1],
            )
            for s in w.sites
        ]
    )
    tf = TurbofanForecaster(random_state=seed).fit(w.train_trajectories)
    ch = ChainForecaster().fit(training_chains(300, seed))
    lives = {
        TURBOFAN: np.array([t.life for t in w.train_trajectories], float),
        CHAIN: np.array([life for _, life in training_chains(300, seed)], float),
    }
    costs = {
        k: cm.model_copy(
            update={"wasted_life_cost_per_unit": cm.planned_cost(True) / lives[k].mean()}
        )
        for k, cm in w.costs.items()
    }
    return Context(w, profiles, tf, ch, costs, workable, usage), lives


def _tune(ctx, lives) -> tuple[dict, dict]:
    from prognos.bench._policies import tune_interval, tune_threshold
    from prognos.sim.world import CHAIN, TURBOFAN

    visit = ctx.world.visit_cost()
    tau, theta = {}, {}
    share_out = float(ctx.usage[:, -1].mean() / ctx.usage.shape[1])  # share of operating days
    for kind in (TURBOFAN, CHAIN):
        cm = ctx.world.costs[kind]
        c_in, c_fail = cm.planned_cost(True) + visit, cm.unplanned_cost + visit
        c_any = share_out * cm.planned_cost(False) + (1 - share_out) * cm.planned_cost(True) + visit
        tau[kind] = tune_interval(lives[kind], c_in, c_fail)
        f = ctx.tf if kind == TURBOFAN else ctx.ch
        med = f.oof_median_ if kind == TURBOFAN else f.train_median_
        theta[kind] = tune_threshold(
            med, f.train_ages_, f.train_groups_, lives[kind], c_any, c_fail
        )
    return tau, theta


def run_fleet(seed: int = 0, data_dir: Path | None = None, progress=None) -> dict[str, Any]:
    from prognos.bench._policies import (
        FixedInterval,
        Prognos,
        RulThreshold,
        RunToFailure,
        run_policy,
    )

    t0 = time.perf_counter()
    ctx, lives = _context(seed, data_dir)
    tau, theta = _tune(ctx, lives)
    setup = time.perf_counter() - t0
    policies = [RunToFailure(), FixedInterval(tau), RulThreshold(theta), Prognos()]
    out: dict[str, Any] = {"policies": {}}
    for pol in policies:
        t = time.perf_counter()
        fleet = run_policy(
            pol, ctx, seed, progress=(lambda p=pol: progress(p.name)) if progress else None
        )
        res = fleet.tally.as_dict()
        res["seconds"] = round(time.perf_counter() - t, 1)
        if isinstance(pol, Prognos):
            res["replans"] = len(pol.solves)
            res["max_solve_seconds"] = round(max(pol.solves, default=0.0), 2)
            res["solver_status"] = pol.statuses
            res["infeasible_replans"] = pol.infeasible
            res["failures_with_open_order"] = pol.failed_with_order
        out["policies"][pol.name] = res
    p, fi = out["policies"]["prognos"], out["policies"]["fixed_interval"]
    best = min(v["total_cost"] for k, v in out["policies"].items() if k != "prognos")
    w = ctx.world
    out["world"] = {
        "customers": len(w.sites),
        "assets": len(w.assets),
        "days": w.n_days,
        "crews": len(w.crews),
        "seed": seed,
        "train_units": len(w.train_trajectories),
        "sim_units": len(w.sim_trajectories),
    }
    out["baselines"] = {"fixed_interval_days": tau, "rul_threshold_days": theta}
    out["acceptance"] = {
        "stoppage_reduction_vs_fixed": round(
            1 - p["unplanned_stoppages"] / max(fi["unplanned_stoppages"], 1), 3
        ),
        "cost_reduction_vs_best_baseline": round(1 - p["total_cost"] / best, 3),
    }
    out["setup_seconds"] = round(setup, 1)
    return out


def run_scale(
    seed: int = 0,
    time_limit_s: float | None = None,
    horizon: int = 90,
    assets: int = 10_000,
    workers: int = 0,
) -> dict[str, Any]:
    """One plan for ``assets`` assets (about 20 per customer, 20 customers and 2 crews per
    region); forecasts are the simulator's truth blurred by a lognormal. The plan is cut into
    regions planned side by side on ``workers`` Dask worker processes (0: in this process)."""
    from contextlib import ExitStack
    from datetime import UTC, datetime

    import numpy as np

    from prognos.domain.forecast import FailureForecast
    from prognos.planning.calendar import day_profile, from_ics
    from prognos.planning.optimizer import plan
    from prognos.sim.fleet import Fleet
    from prognos.sim.world import build_world

    t_setup = time.perf_counter()
    n_customers = max(1, assets // 20)
    w = build_world(
        seed,
        n_customers=n_customers,
        n_regions=max(1, n_customers // 20),
        turbofans_per_site=10.2,
        chains_per_site=10.2,
        n_days=horizon + 10,
        with_trajectories=True,
    )
    fleet = Fleet(w, seed)
    now = datetime.combine(w.start, datetime.min.time(), UTC)
    until = now + timedelta(days=horizon + 5)
    profiles = {
        s: day_profile(from_ics(t, s, until=until), w.start, horizon + 2) for s, t in w.ics.items()
    }
    rng = np.random.default_rng(seed)
    rul = fleet._life - fleet.age  # noqa: SLF001 -- the scale test needs a belief, not a policy
    z = np.array([-2.05, -1.64, -1.28, -0.67, 0.0, 0.67, 1.28, 1.64, 2.05])
    levels = (0.02, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.98)
    centre = rul * np.exp(rng.normal(0, 0.15, len(rul)))
    fcs = {
        a.key: FailureForecast(a.key, now, levels, tuple(centre[i] * np.exp(0.15 * z)))
        for i, a in enumerate(w.assets)
    }
    costs = {
        k: cm.model_copy(update={"wasted_life_cost_per_unit": cm.planned_cost(True) / 250})
        for k, cm in w.costs.items()
    }
    limit = time_limit_s or (10.0 if len(w.assets) <= 20_000 else 120.0)
    _warm_up()  # the planner's imports (SciPy, OR-Tools: 2 s) before the clock, as in a service
    with ExitStack() as stack:
        client = None
        if workers > 0:
            from distributed import Client, LocalCluster

            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",  # a free port: None still takes 8787
                    host="127.0.0.1",
                )  # fmt: skip
            )
            client = stack.enter_context(Client(cluster))
            client.run(_warm_up)  # imports done before the clock starts, as in a running service
        setup = time.perf_counter() - t_setup
        cpu, stats = time.process_time(), {}
        p = plan(fcs, w.assets, profiles, w.crews, w.depots, costs, now=now, horizon_days=horizon,
                 travel=w.travel, time_limit_s=limit, method="decompose", executor=client, stats=stats)  # fmt: skip
        cpu = time.process_time() - cpu
    return {
        "solve_seconds": round(p.solve_seconds, 2),
        "gap": round((p.objective - p.lower_bound) / max(abs(p.objective), 1.0), 4),
        "bound_method": p.bound_method,
        "objective": round(p.objective, 0),
        "lower_bound": round(p.lower_bound, 0),
        "assets": len(w.assets),
        "customers": len(w.sites),
        "crews": len(w.crews),
        "horizon_days": horizon,
        "jobs": len(p.jobs),
        "status": p.status,
        "time_limit_s": limit,
        "workers": workers,
        "main_process_cpu_seconds": round(cpu, 2),
        "setup_seconds": round(setup, 1),
        "phases": stats,
    }


def _warm_up() -> None:
    import ortools.graph.python.min_cost_flow  # noqa: F401
    import scipy.optimize  # noqa: F401

    import prognos.planning.decompose  # noqa: F401
