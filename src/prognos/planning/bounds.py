"""The LP relaxation of the exact model (HiGHS through SciPy): a lower bound for small problems."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from prognos.planning.problem import Problem


def lp_bound(pr: Problem) -> float:
    """Optimal value of the LP relaxation: a lower bound on the best plan."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    nx = len(pr.cands)
    zkeys = [(key, j) for key, opts in pr.visits.items() for j, _, _ in opts]
    zidx = {kj: nx + n for n, kj in enumerate(zkeys)}
    cost = np.zeros(nx + len(zkeys))
    lo = np.zeros_like(cost)
    for k, c in enumerate(pr.cands):
        cost[k] = c.cost - pr.none_cost[c.asset]
        lo[k] = 1.0 if c.forced else 0.0
    vcost = {(key, j): vc for key, opts in pr.visits.items() for j, _, vc in opts}
    for kj, n in zidx.items():
        cost[n] = vcost[kj]
    rows, cols, vals, rhs = [], [], [], []

    def row(entries, b):
        r = len(rhs)
        for col, v in entries:
            rows.append(r)
            cols.append(col)
            vals.append(v)
        rhs.append(b)

    at_visit: dict[tuple[str, int], list[int]] = defaultdict(list)
    for ks in pr.by_asset:
        if len(ks) > 1:
            row([(k, 1.0) for k in ks], 1.0)
    for k, c in enumerate(pr.cands):
        key = (c.site, c.day)
        at_visit[key].append(k)
        skill = pr.assets[c.asset].asset_type
        row(
            [(k, 1.0)]
            + [
                (zidx[(key, j)], -1.0)
                for j, _, _ in pr.visits[key]
                if skill in pr.crews[j].skills and (c.crew is None or c.crew == j)
            ],
            0.0,
        )
    crew_day: dict[tuple[int, int], list[int]] = defaultdict(list)
    for key, opts in pr.visits.items():
        row([(zidx[(key, j)], 1.0) for j, _, _ in opts], 1.0)
        row(
            [(k, pr.hours[pr.cands[k].asset]) for k in at_visit[key]]
            + [(zidx[(key, j)], -cap) for j, cap, _ in opts],
            0.0,
        )
        for j, _, _ in opts:
            crew_day[(j, key[1])].append(zidx[(key, j)])
    for zs in crew_day.values():
        if len(zs) > 1:
            row([(n, 1.0) for n in zs], 1.0)
    for _, _, cap, idx in pr.parts:
        row([(k, 1.0) for k in idx], float(cap))
    const = float(pr.none_cost.sum())
    if not len(cost):
        return const
    a = coo_matrix((vals, (rows, cols)), shape=(len(rhs), len(cost))).tocsr() if rhs else None
    res = linprog(
        cost,
        A_ub=a,
        b_ub=np.array(rhs) if rhs else None,
        bounds=np.column_stack([lo, np.ones_like(cost)]),
        method="highs",
    )
    return const + float(res.fun) if res.status == 0 else -np.inf
