"""The visit knapsacks are exact: the same best value as trying every subset, and a real subset."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from prognos.planning import knapsack


def best_subset(w, v, cap) -> float:
    best = 0.0
    for r in range(len(w) + 1):
        for comb in itertools.combinations(range(len(w)), r):
            if w[list(comb)].sum() <= cap:
                best = max(best, float(v[list(comb)].sum()))
    return best


@pytest.mark.parametrize(
    "weights",
    [
        (8, 32),
        (4, 8, 12),
        (0, 8),
    ],  # two weights (closed form), three (dynamic programme), weightless
    ids=["two-weights", "three-weights", "weightless"],
)
def test_every_group_and_capacity_matches_enumeration(weights):
    rng = np.random.default_rng(len(weights))
    for _ in range(60):
        n = int(rng.integers(1, 11))
        g = rng.integers(0, 4, n)
        w = rng.choice(weights, n)
        v = rng.uniform(0.1, 10.0, n)
        cap = int(rng.choice([16, 32, 40]))
        kn = knapsack.solve(g, w, v, 4, cap)
        for group in range(4):
            mine = np.flatnonzero(g == group)
            for c in (0, 8, 16, cap):
                got = kn.value_at(np.array([group]), np.array([c]))[0]
                picked = kn.pick(np.array([group]), np.array([c]))[0]
                assert got == pytest.approx(best_subset(w[mine], v[mine], c))
                assert set(g[picked]) <= {group} and w[picked].sum() <= c
                assert v[picked].sum() == pytest.approx(got)
