"""A fast relaxation as a min-cost flow (OR-Tools), for a bound and for starting prices.

Hours flow from components to crew-days: a component sends its job hours either to "no job"
(cost 0) or, through one of its candidate days, to a site-day of its asset type (cost per hour:
the candidate's cost minus no job's, over the job's hours), from there to a crew working that
day (the visit's cost spread over the crew's hours) and on to the sink (a crew-day holds its
hours). A site-day takes at most one crew-day of hours from the crews that can do all of its
jobs. Every plan is such a flow at no more than its cost, so the cheapest flow bounds every
plan; part limits are left out (the Lagrangian bound prices them).

The node potentials of the optimal flow (shortest distances to the sink in the residual
network, by Bellman-Ford) price each component's job: the start of the Lagrangian ascent.
"""

from __future__ import annotations

import numpy as np

from prognos.planning import knapsack
from prognos.planning.slices import Slice

_SCALE = 1.0  # cost resolution: 1 EUR per quarter-hour (finer scales slow the solver down)


def flow_bound(sl: Slice) -> tuple[float, np.ndarray]:
    """(the flow relaxation's optimum, a price per component for the Lagrangian bound)."""
    from ortools.graph.python import min_cost_flow

    n, G = sl.n, sl.n_groups
    if not len(sl.cand):
        return float(sl.none_cost.sum()), np.zeros(n)
    w = np.maximum(knapsack.units(sl.hours, up=False), 1)
    # nodes: sink 0, components 1..n, class nodes (site-day, type), hubs (site-day), crew-days
    cls, cls_of_cand = np.unique(sl.c_group * 64 + sl.type_of[sl.c_asset], return_inverse=True)
    cls_group, cls_type = cls // 64, cls % 64
    n_cls = len(cls)
    c0, h0 = 1 + n, 1 + n + n_cls
    cd_key, cd_of_opt = np.unique(
        sl.o_crew * (sl.horizon + 1) + sl.g_day[sl.o_group], return_inverse=True
    )
    d0 = h0 + G
    n_nodes = d0 + len(cd_key)
    cap_u = knapsack.units(sl.o_cap, up=True)
    tails, heads, caps, costs = [], [], [], []

    def arcs(t, h, c, u):
        tails.append(np.asarray(t, np.int64))
        heads.append(np.asarray(h, np.int64))
        caps.append(np.asarray(c, np.int64))
        costs.append(np.asarray(u, np.int64))

    comp_nodes = 1 + np.arange(n)
    arcs(comp_nodes, np.zeros(n), w, np.zeros(n))  # no job
    unit = np.floor((sl.c_cost - sl.none_cost[sl.c_asset]) * _SCALE / w[sl.c_asset])
    arcs(1 + sl.c_asset, c0 + cls_of_cand, w[sl.c_asset], unit)
    # which crews may do all of a site-day's jobs (its hub), and which only some classes
    o_bits = sl.skill_mask[sl.o_crew]
    g_types = np.zeros(G, np.int64)
    np.bitwise_or.at(g_types, cls_group, 1 << cls_type)
    g_maxw = np.zeros(G, np.int64)
    np.maximum.at(g_maxw, sl.c_group, w[sl.c_asset])
    full = ((o_bits & g_types[sl.o_group]) == g_types[sl.o_group]) & (cap_u >= g_maxw[sl.o_group])
    hub_cap = np.zeros(G, np.int64)
    np.maximum.at(hub_cap, sl.o_group[full], cap_u[full])
    has_hub = hub_cap > 0
    at_hub = has_hub[cls_group]
    arcs(
        c0 + np.flatnonzero(at_hub),
        h0 + cls_group[at_hub],
        hub_cap[cls_group[at_hub]],
        np.zeros(at_hub.sum()),
    )
    vunit = np.floor(sl.o_cost * _SCALE / np.maximum(cap_u, 1))
    arcs(h0 + sl.o_group[full], d0 + cd_of_opt[full], cap_u[full], vunit[full])
    # a crew that cannot do everything there takes the classes it can, straight from them
    part = np.flatnonzero(~full)
    if len(part):
        cls_start = np.searchsorted(cls_group, np.arange(G + 1))
        first, count = cls_start[sl.o_group[part]], np.diff(cls_start)[sl.o_group[part]]
        o = np.repeat(part, count)
        c = np.repeat(first - np.cumsum(np.r_[0, count[:-1]]), count) + np.arange(count.sum())
        maxw_c = np.zeros(n_cls, np.int64)
        np.maximum.at(maxw_c, cls_of_cand, w[sl.c_asset])
        ok = ((o_bits[o] >> cls_type[c]) & 1 == 1) & (cap_u[o] >= maxw_c[c])
        o, c = o[ok], c[ok]
        arcs(c0 + c, d0 + cd_of_opt[o], cap_u[o], vunit[o])
    cd_cap = np.zeros(len(cd_key), np.int64)
    np.maximum.at(cd_cap, cd_of_opt, cap_u)
    arcs(d0 + np.arange(len(cd_key)), np.zeros(len(cd_key)), cd_cap, np.zeros(len(cd_key)))
    t, h, c, u = (np.concatenate(x) for x in (tails, heads, caps, costs))
    f = min_cost_flow.SimpleMinCostFlow()
    f.add_arcs_with_capacity_and_unit_cost(t, h, c, u)
    supply = np.zeros(n_nodes, np.int64)
    supply[comp_nodes] = w
    supply[0] = -w.sum()
    f.set_nodes_supplies(np.arange(n_nodes), supply)
    if f.solve() != f.OPTIMAL:
        return -np.inf, np.zeros(n)
    flow = f.flows(np.arange(f.num_arcs()))
    value = float(sl.none_cost.sum()) + f.optimal_cost() / _SCALE
    p = _potentials(n_nodes, t, h, c, u, flow)
    price = np.maximum(-p[comp_nodes], 0.0) * w / _SCALE
    return value, price


def _potentials(n_nodes, t, h, c, u, flow, max_rounds: int = 400) -> np.ndarray:
    """Distances to the sink (node 0) over residual arcs; 0 where the sink is out of reach."""
    fwd = flow < c
    bwd = flow > 0
    src = np.concatenate([t[fwd], h[bwd]])
    dst = np.concatenate([h[fwd], t[bwd]])
    cost = np.concatenate([u[fwd], -u[bwd]]).astype(float)
    dist = np.full(n_nodes, np.inf)
    dist[0] = 0.0
    for _ in range(max_rounds):
        cand = cost + dist[dst]
        new = dist.copy()
        np.minimum.at(new, src, cand)
        if np.array_equal(new, dist):
            break
        dist = new
    return np.where(np.isfinite(dist), dist, 0.0)
