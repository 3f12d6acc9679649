"""A lower bound stronger than the LP relaxation: Lagrangian relaxation by day.

The constraints that tie the days together are priced instead of enforced: "each component at
most one job" (price ``pi_i``) and "parts on hand before the reorder lead time" (price
``mu_r``). What is left falls apart into one problem per day, solved exactly: a knapsack per
site and crew (which jobs a visit would do) and a maximum-weight matching of crews to sites
(a crew makes one visit, a site gets one crew). For any prices ``pi, mu >= 0``::

    L(pi, mu) = const - sum(pi) - sum(mu * on_hand) + sum_d min_day_d(cost + pi + mu)

is at most the cost of every plan (weak duality), so every ``L`` is a valid bound; the best
one found is reported. Because a day's problem keeps crews whole (no crew split across sites,
no half a job in a visit), the best ``L`` is at least the LP relaxation's value. The prices
start from a plan (a component's price is what its job saves there) and move by subgradient
steps with Polyak's step length towards the plan's cost.

Job hours are rounded down and crew hours up (to quarter-hours), so rounding never cuts the
bound above the truth.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import linear_sum_assignment

from prognos.planning import knapsack
from prognos.planning.slices import Slice

_BONUS = 1e9  # committed jobs are always taken; the bonus is subtracted again


class DayRelaxation:
    def __init__(self, sl: Slice):
        self.sl = sl
        self.w = knapsack.units(sl.hours, up=False)[sl.c_asset]
        self.cap = knapsack.units(sl.o_cap, up=True)
        self.o_day = sl.g_day[sl.o_group]
        self.crew_day = sl.o_crew * (sl.horizon + 1) + self.o_day
        self.masks = np.unique(sl.skill_mask[sl.o_crew]).tolist() if len(sl.o_crew) else []
        self.fits = {m: ((m >> sl.type_of[sl.c_asset]) & 1) == 1 for m in self.masks}
        # options sharing a site-day, a capacity and a skill set share their knapsack
        o_mask = sl.skill_mask[sl.o_crew]
        key = np.stack([sl.o_group, self.cap, o_mask])
        self.pairs, self.pair_of = np.unique(key, axis=1, return_inverse=True)
        self.pair_of = self.pair_of.ravel()
        self.n_blocks = int(sl.block.max()) + 1 if sl.n else 1
        g_block = np.zeros(sl.n_groups, int)
        g_block[sl.c_group] = sl.block[sl.c_asset]
        self.o_block = g_block[sl.o_group]
        self.r_block = np.zeros(len(sl.row_cap), int)
        has_row = sl.c_row >= 0
        self.r_block[sl.c_row[has_row]] = sl.block[sl.c_asset[has_row]]

    def _match(self, opt_value: np.ndarray) -> np.ndarray:
        """The visit options of a maximum-weight matching of crews to site-days, day by day."""
        sl = self.sl
        live = np.flatnonzero(opt_value > 0)
        if not len(live):
            return live
        order = live[np.lexsort((-opt_value[live], self.crew_day[live]))]
        first = np.r_[True, self.crew_day[order[1:]] != self.crew_day[order[:-1]]]
        best = order[first]  # each crew-day at its best site-day
        g = sl.o_group[best]
        dup = np.unique(g[np.r_[False, np.sort(g)[1:] == np.sort(g)[:-1]]]) if len(g) > 1 else g[:0]
        if not len(dup):
            return best
        clash_days = np.unique(sl.g_day[dup])
        keep = best[~np.isin(self.o_day[best], clash_days)]
        out = [keep]
        for d in clash_days.tolist():
            opts = live[self.o_day[live] == d]
            crews, c = np.unique(sl.o_crew[opts], return_inverse=True)
            groups, q = np.unique(sl.o_group[opts], return_inverse=True)
            w = np.zeros((len(crews), len(groups)))
            w[c, q] = opt_value[opts]
            at = np.full(w.shape, -1)
            at[c, q] = opts
            r, col = linear_sum_assignment(w, maximize=True)
            out.append(at[r, col][w[r, col] > 0])
        return np.concatenate(out)

    def value(self, pi: np.ndarray, mu: np.ndarray):
        """Per block: ``L(pi, mu)``; and how often each component and part row was used."""
        sl = self.sl
        red = sl.c_cost - sl.none_cost[sl.c_asset] + pi[sl.c_asset]
        if len(mu):
            red = red + np.where(sl.c_row >= 0, mu[np.maximum(sl.c_row, 0)], 0.0)
        gain = np.where(sl.c_forced, _BONUS - red, -red)
        pair_value = np.zeros(self.pairs.shape[1])
        packs = {}
        for m in self.masks:
            keep = np.flatnonzero(self.fits[m] & (gain > 0))
            kn = knapsack.solve(sl.c_group[keep], self.w[keep], gain[keep], sl.n_groups,
                                int(self.cap.max()))  # fmt: skip
            packs[m] = (kn, keep)
            live = np.zeros(sl.n_groups, bool)
            live[sl.c_group[keep]] = True
            at = np.flatnonzero((self.pairs[2] == m) & live[self.pairs[0]])
            pair_value[at] = kn.value_at(self.pairs[0, at], self.pairs[1, at])
        opt_value = pair_value[self.pair_of] - sl.o_cost
        chosen = self._match(opt_value)
        nb = self.n_blocks
        bound = np.bincount(sl.block, sl.none_cost - pi, minlength=nb)
        bound -= np.bincount(self.r_block, mu * sl.row_cap, minlength=nb)
        bound -= np.bincount(self.o_block[chosen], opt_value[chosen], minlength=nb)
        used = np.zeros(sl.n)
        rows = np.zeros(len(sl.row_cap))
        for m, (kn, keep) in packs.items():
            mine = chosen[sl.skill_mask[sl.o_crew[chosen]] == m]
            picked = kn.pick(sl.o_group[mine], self.cap[mine])
            if not picked:
                continue
            k = keep[np.concatenate(picked)]
            np.add.at(used, sl.c_asset[k], 1)
            r_k = sl.c_row[k]
            np.add.at(rows, r_k[r_k >= 0], 1)
            f = k[sl.c_forced[k]]
            bound += _BONUS * np.bincount(sl.block[sl.c_asset[f]], minlength=nb)
        return bound, used, rows


def bound_slice(
    sl: Slice,
    upper: np.ndarray,
    pi0: np.ndarray | None = None,
    time_limit_s: float = 2.0,
    max_iter: int = 200,
) -> tuple[np.ndarray, np.ndarray]:
    """The best ``L`` of each block found within the time limit, and the prices behind them.

    ``upper`` is a plan's cost per block (each block's steps aim at it); ``pi0`` the starting
    prices (default 0). A plain function of plain data, so that a Dask worker can run it.
    """
    t_end = time.perf_counter() + time_limit_s
    rel = DayRelaxation(sl)
    nb = rel.n_blocks
    upper = np.broadcast_to(np.asarray(upper, float), (nb,)).copy()
    pi = np.zeros(sl.n) if pi0 is None else np.maximum(np.asarray(pi0, float), 0.0)
    mu = np.zeros(len(sl.row_cap))
    best = np.full(nb, -np.inf)
    best_pi = pi.copy()
    theta, stall = np.ones(nb), np.zeros(nb, int)
    for _ in range(max_iter):
        val, used, rows = rel.value(pi, mu)
        up = val > best + 1e-9 * np.abs(upper)
        best = np.where(up, val, best)
        best_pi = np.where(up[sl.block], pi, best_pi)
        stall = np.where(up, 0, stall + 1)
        theta = np.where(stall >= 3, theta / 2, theta)
        stall[stall >= 3] = 0
        g_pi = used - 1.0
        g_pi[(pi <= 0) & (g_pi < 0)] = 0.0
        g_mu = rows - sl.row_cap
        g_mu[(mu <= 0) & (g_mu < 0)] = 0.0
        norm = np.bincount(sl.block, g_pi**2, minlength=nb)
        norm += np.bincount(rel.r_block, g_mu**2, minlength=nb)
        gap = np.maximum(upper - val, 1e-6 * np.abs(upper))
        step = np.where(norm > 0, theta * gap / np.maximum(norm, 1e-12), 0.0)
        if time.perf_counter() > t_end or not (step > 0).any():
            break
        pi = np.maximum(pi + step[sl.block] * g_pi, 0.0)
        mu = np.maximum(mu + step[rel.r_block] * g_mu, 0.0)
    return best, best_pi
