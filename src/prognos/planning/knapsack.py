"""Many small 0/1 knapsacks at once: which jobs one crew visit should do at one site on one day.

Items are grouped (one group per site-day); each has a weight in quarter-hours and a positive
value. ``solve`` answers, for any (group, capacity), the best value (``value_at``) and the
items behind it (``pick``). Exact: within a group only the ``cap // w`` most valuable items of
each weight ``w`` can be in an optimal choice, so the others are dropped first. When no group
has more than two weights (one job length per asset type, two types at a site), the best choice
is a count of the heavier items and as many of the lighter as fit, tried for every count;
otherwise a dynamic programme over the items' ranks does it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UNITS_PER_HOUR = 4


def units(hours: np.ndarray, *, up: bool) -> np.ndarray:
    """Hours in quarter-hours, rounded up (job hours of a plan) or down (capacities of a plan)."""
    x = np.asarray(hours, float) * UNITS_PER_HOUR
    return (np.ceil(x - 1e-6) if up else np.floor(x + 1e-6)).astype(np.int64)


@dataclass
class TwoWeights:
    """Groups with at most two item weights: prefix sums of each weight's best items."""

    w: np.ndarray  # (groups, 2) weights, the heavier first (0: none)
    pre: np.ndarray  # (groups, 2, n + 1) sums of the best 0..n items of each weight
    items: np.ndarray  # (groups, 2, n) item indices, -1 padded
    count: np.ndarray  # (groups, 2)

    def _best(self, groups, caps):
        g, c = np.asarray(groups, int), np.asarray(caps, int)
        best = np.full(len(g), -np.inf)
        arg = np.zeros((len(g), 2), int)
        wa, wb = self.w[g, 0], np.maximum(self.w[g, 1], 1)
        for na in range(self.pre.shape[2]):
            ok = (na <= self.count[g, 0]) & (na * wa <= c)
            nb = np.where(
                self.w[g, 1] > 0,
                np.minimum(self.count[g, 1], (c - na * wa) // wb),
                self.count[g, 1],
            )
            nb = np.maximum(nb, 0)
            v = np.where(ok, self.pre[g, 0, na] + self.pre[g, 1, nb], -np.inf)
            better = v > best + 1e-9
            best = np.where(better, v, best)
            arg[better, 0], arg[better, 1] = na, nb[better]
        return best, arg

    def value_at(self, groups, caps) -> np.ndarray:
        return self._best(groups, caps)[0]

    def pick(self, groups, caps) -> list[np.ndarray]:
        _, arg = self._best(groups, caps)
        g = np.asarray(groups, int)
        return [
            np.concatenate([self.items[q, 0, : a[0]], self.items[q, 1, : a[1]]])
            for q, a in zip(g.tolist(), arg, strict=True)
        ]


@dataclass
class Knapsacks:
    value: np.ndarray  # (groups, cap + 1): best value with at most that many units
    take: np.ndarray  # (ranks, groups, cap + 1)
    item: np.ndarray  # (ranks, groups): item index or -1
    weight: np.ndarray  # (ranks, groups)

    def value_at(self, groups, caps) -> np.ndarray:
        return self.value[np.asarray(groups, int), np.minimum(caps, self.value.shape[1] - 1)]

    def pick(self, groups: np.ndarray, caps: np.ndarray) -> list[np.ndarray]:
        """The items chosen in each (group, capacity)."""
        groups, c = np.asarray(groups, int), np.asarray(caps, int).copy()
        chosen = []
        for r in range(self.take.shape[0] - 1, -1, -1):
            t = self.take[r, groups, c]
            chosen.append(np.where(t, self.item[r, groups], -1))
            c -= np.where(t, self.weight[r, groups], 0)
        if not chosen:
            return [np.zeros(0, int) for _ in groups]
        stack = np.array(chosen).T
        return [row[row >= 0] for row in stack]


def solve(group, weight, value, n_groups: int, cap: int) -> Knapsacks | TwoWeights:
    """``group``, ``weight`` (units), ``value`` (> 0) per item; capacities 0..``cap`` units."""
    cap = max(int(cap), 0)
    keep = (weight <= cap) & (value > 0)
    idx = np.flatnonzero(keep)
    g, w, v = group[idx], weight[idx], value[idx]
    order = np.lexsort((-v, w, g))
    idx, g, w, v = idx[order], g[order], w[order], v[order]
    # rank within (group, weight); keep only the cap // w best of each weight
    start = np.r_[True, (g[1:] != g[:-1]) | (w[1:] != w[:-1])] if len(g) else np.zeros(0, bool)
    pos = np.arange(len(g))
    rank_w = pos - np.maximum.accumulate(np.where(start, pos, 0)) if len(g) else pos
    ok = rank_w < np.where(w > 0, cap // np.maximum(w, 1), len(w))  # weightless: all fit
    idx, g, w, v, rank_w, start = idx[ok], g[ok], w[ok], v[ok], rank_w[ok], start[ok]
    n_w = np.bincount(g[start], minlength=n_groups) if len(g) else np.zeros(n_groups, int)
    if not len(g) or n_w.max() <= 2:
        return _two(idx, g, w, v, rank_w, start, n_groups, cap)
    gstart = np.r_[True, g[1:] != g[:-1]] if len(g) else np.zeros(0, bool)
    pos = np.arange(len(g))
    rank = pos - np.maximum.accumulate(np.where(gstart, pos, 0)) if len(g) else pos
    n_ranks = int(rank.max()) + 1 if len(rank) else 0
    dp = np.zeros((n_groups, cap + 1))
    take = np.zeros((n_ranks, n_groups, cap + 1), bool)
    item = np.full((n_ranks, n_groups), -1)
    wt = np.zeros((n_ranks, n_groups), int)
    cols = np.arange(cap + 1)
    for r in range(n_ranks):
        at = rank == r
        gr, wr, vr = g[at], w[at], v[at]
        item[r, gr], wt[r, gr] = idx[at], wr
        back = cols[None, :] - wr[:, None]
        prev = np.take_along_axis(dp[gr], np.maximum(back, 0), axis=1)
        cand = np.where(back >= 0, prev + vr[:, None], -np.inf)
        better = cand > dp[gr] + 1e-9
        dp[gr] = np.where(better, cand, dp[gr])
        take[r, gr] = better
    return Knapsacks(dp, take, item, wt)


def _two(idx, g, w, v, rank_w, start, n_groups: int, cap: int) -> TwoWeights:
    # items are sorted by group, weight (lighter first), value (best first)
    cls = np.zeros(len(g), int)
    if len(g):
        first_w = np.full(n_groups, -1)
        first_w[g[start][::-1]] = w[start][::-1]  # the lightest weight of each group
        two = np.bincount(g[start], minlength=n_groups) == 2
        cls = np.where(two[g] & (w == first_w[g]), 1, 0)  # heavier: class 0, lighter: class 1
    n = int(rank_w.max()) + 1 if len(g) else 0
    ww = np.zeros((n_groups, 2), int)
    ww[g, cls] = w
    cnt = np.zeros((n_groups, 2), int)
    np.add.at(cnt, (g, cls), 1)
    vals = np.zeros((n_groups, 2, n + 1))
    vals[g, cls, rank_w + 1] = v
    items = np.full((n_groups, 2, max(n, 1)), -1)
    items[g, cls, rank_w] = idx
    return TwoWeights(ww, np.cumsum(vals, axis=2), items, cnt)
