"""Small problems solved well: a greedy plan (hint and fallback) and CP-SAT on the exact model.

The service's and the two-year benchmark's plans (hundreds of components) run here; the large
plans go to :mod:`prognos.planning.decompose`.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from prognos.planning.problem import Problem, Solution


def greedy(pr: Problem) -> Solution:
    """Committed jobs first, then components by how much a job saves, into the best open or new visit."""
    sol = Solution({}, {})
    load: dict[tuple[str, int], float] = defaultdict(float)
    busy: set[tuple[int, int]] = set()
    parts_left = {k: cap for k, (_, _, cap, _) in enumerate(pr.parts)}
    part_rows: dict[int, list[int]] = defaultdict(list)
    for r, (_, _, _, idx) in enumerate(pr.parts):
        for k in idx:
            part_rows[k].append(r)

    def options(k: int):
        c = pr.cands[k]
        key, skill = (c.site, c.day), pr.assets[c.asset].asset_type
        if any(parts_left[r] <= 0 for r in part_rows[k]):
            return
        if key in sol.crew_of:
            j = sol.crew_of[key]
            cap = next(v[1] for v in pr.visits[key] if v[0] == j)
            if skill in pr.crews[j].skills and load[key] + pr.hours[c.asset] <= cap + 1e-9:
                yield j, 0.0
            return
        for j, cap, vc in pr.visits.get(key, []):
            if (
                (c.crew is None or c.crew == j)
                and (j, c.day) not in busy
                and skill in pr.crews[j].skills
                and pr.hours[c.asset] <= cap + 1e-9
            ):
                yield j, vc

    def take(i: int, k: int, j: int) -> None:
        c = pr.cands[k]
        key = (c.site, c.day)
        sol.chosen[i] = k
        if key not in sol.crew_of:
            sol.crew_of[key] = j
            busy.add((j, c.day))
        load[key] += pr.hours[i]
        for r in part_rows[k]:
            parts_left[r] -= 1

    forced = [k for k, c in enumerate(pr.cands) if c.forced]
    for k in forced:
        opts = list(options(k))
        if opts:
            take(pr.cands[k].asset, k, min(opts, key=lambda o: o[1])[0])
    regret = [
        (pr.none_cost[i] - min(pr.cands[k].cost for k in ks), i)
        for i, ks in enumerate(pr.by_asset)
        if ks and i not in sol.chosen
    ]
    for _, i in sorted(regret, reverse=True):
        best = None
        for k in pr.by_asset[i]:
            for j, vc in options(k):
                gain = pr.none_cost[i] - pr.cands[k].cost - vc
                if gain > 0 and (best is None or gain > best[0]):
                    best = (gain, k, j)
        if best:
            take(i, best[1], best[2])
    return sol


def _twins(crews) -> list[tuple[int, int]]:
    """Pairs of crews (consecutive within a class) that no constraint or cost tells apart."""
    seen: dict[tuple, int] = {}
    pairs = []
    for j, c in enumerate(crews):
        sig = (
            frozenset(c.skills),
            c.home_region,
            c.hours_per_day,
            frozenset(c.working_weekdays),
            c.cost_per_hour,
            c.callout_cost,
        )
        if sig in seen:
            pairs.append((seen[sig], j))
        seen[sig] = j
    return pairs


def solve_cpsat(pr: Problem, hint: Solution, time_limit_s: float, workers: int = 2):
    """Exact model; returns (solution or None, status name, best bound)."""
    from ortools.sat.python import cp_model

    m = cp_model.CpModel()
    x = [m.new_bool_var(f"x{k}") for k in range(len(pr.cands))]
    z: dict[tuple[str, int, int], cp_model.IntVar] = {}
    for (site, day), opts in pr.visits.items():
        for j, _, _ in opts:
            z[(site, day, j)] = m.new_bool_var(f"z{site}{day}_{j}")
    for ks in pr.by_asset:
        if ks:
            m.add_at_most_one(x[k] for k in ks)
    at_visit: dict[tuple[str, int], list[int]] = defaultdict(list)
    for k, c in enumerate(pr.cands):
        at_visit[(c.site, c.day)].append(k)
        if c.forced:
            m.add(x[k] == 1)
        skill = pr.assets[c.asset].asset_type
        ok = [
            z[(c.site, c.day, j)]
            for j, _, _ in pr.visits[(c.site, c.day)]
            if skill in pr.crews[j].skills and (c.crew is None or c.crew == j)
        ]
        m.add(x[k] <= sum(ok)) if ok else m.add(x[k] == 0)
    scale = 60  # capacity in minutes
    crew_day: dict[tuple[int, int], list] = defaultdict(list)
    for key, opts in pr.visits.items():
        m.add_at_most_one(z[(*key, j)] for j, _, _ in opts)
        load = sum(int(round(pr.hours[pr.cands[k].asset] * scale)) * x[k] for k in at_visit[key])
        m.add(load <= sum(int(cap * scale) * z[(*key, j)] for j, cap, _ in opts))
        for j, _, _ in opts:
            crew_day[(j, key[1])].append(z[(*key, j)])
    for zs in crew_day.values():
        m.add_at_most_one(zs)
    # interchangeable crews: the later one works a day only if the earlier one does
    pinned = {c.crew for c in pr.cands if c.forced}
    for j1, j2 in _twins(pr.crews):
        if j1 in pinned or j2 in pinned:
            continue
        for day in {d for (j, d) in crew_day if j == j2}:
            m.add(sum(crew_day[(j2, day)]) <= sum(crew_day.get((j1, day), [])))
    for _, _, cap, idx in pr.parts:
        m.add(sum(x[k] for k in idx) <= cap)
    obj = [int(round(c.cost - pr.none_cost[c.asset])) * x[k] for k, c in enumerate(pr.cands)]
    obj += [int(round(vc)) * z[(*key, j)] for key, opts in pr.visits.items() for j, _, vc in opts]
    m.minimize(sum(obj))
    for k in range(len(pr.cands)):
        m.add_hint(x[k], int(hint.chosen.get(pr.cands[k].asset) == k))
    for (site, day, j), var in z.items():
        m.add_hint(var, int(hint.crew_of.get((site, day)) == j))
    s = cp_model.CpSolver()
    s.parameters.max_time_in_seconds = max(time_limit_s, 0.01)
    s.parameters.num_workers = workers
    st = s.solve(m)
    const = float(pr.none_cost.sum())
    if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, s.status_name(st), -np.inf
    chosen = {pr.cands[k].asset: k for k in range(len(pr.cands)) if s.value(x[k])}
    crew_of = {(site, day): j for (site, day, j), v in z.items() if s.value(v)}
    used = {(pr.cands[k].site, pr.cands[k].day) for k in chosen.values()}
    crew_of = {key: j for key, j in crew_of.items() if key in used}
    return Solution(chosen, crew_of), s.status_name(st).lower(), const + s.best_objective_bound
