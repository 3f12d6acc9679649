"""The planning problem as arrays, and a solution to it. Every solver reads these; nothing here solves.

A *candidate* is one way to replace one component: a day at its site with an expected cost. A
*visit option* is one crew at one site on one day, with the hours it has there for jobs (after
travel there and back) and what the visit costs. Arrays, not objects, because the 100,000-asset
plan has two million candidates; the small solvers read them through :attr:`Problem.cands` and
:attr:`Problem.visits`, object views built on first use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

import numpy as np

from prognos.domain.planning import CostModel, Crew, PlanAsset


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
    today: date  # day 0: the earliest local date among the sites
    horizon: int
    assets: list[PlanAsset]
    cms: list[CostModel]
    crews: list[Crew]
    hours: np.ndarray  # job hours per component
    none_cost: np.ndarray  # expected cost of no job in the horizon
    none_p: np.ndarray
    sites: list[str] = field(default_factory=list)
    site_of: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # component -> site
    site_region: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # site -> region
    regions: list[str] = field(default_factory=list)
    # candidates, sorted by component then day
    c_asset: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    c_day: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    c_win: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    c_cost: np.ndarray = field(default_factory=lambda: np.zeros(0))
    c_p: np.ndarray = field(default_factory=lambda: np.zeros(0))
    c_forced: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    c_crew: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # forced crew or -1
    # visit options, sorted by site then day
    v_site: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    v_day: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    v_crew: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    v_cap: np.ndarray = field(default_factory=lambda: np.zeros(0))
    v_cost: np.ndarray = field(default_factory=lambda: np.zeros(0))
    site_days: list[tuple[int, int]] = field(default_factory=list)  # (site, day) with candidates
    # depot, part, on hand, candidates that draw from it before its reorder lead time
    parts: list[tuple[str, str, int, np.ndarray]] = field(default_factory=list)
    depot_of: dict[int, str] = field(default_factory=dict)  # component -> depot id
    released: list[str] = field(default_factory=list)
    relaxed_bound: float = float("-inf")
    type_of: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # component -> type
    skill_mask: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # crew -> type bits

    def date_of(self, day: int) -> date:
        return self.today + timedelta(days=int(day))

    @property
    def n_cands(self) -> int:
        return len(self.c_asset)

    @cached_property
    def a_ptr(self) -> np.ndarray:
        """Candidates of component ``i`` are ``a_ptr[i]:a_ptr[i + 1]``."""
        return np.searchsorted(self.c_asset, np.arange(len(self.assets) + 1))

    @cached_property
    def cands(self) -> list[Candidate]:
        sites = self.sites
        return [
            Candidate(
                int(i),
                sites[s],
                int(d),
                bool(w),
                float(c),
                float(p),
                bool(f),
                None if j < 0 else int(j),
            )  # fmt: skip
            for i, s, d, w, c, p, f, j in zip(
                self.c_asset.tolist(),
                self.site_of[self.c_asset].tolist(),
                self.c_day.tolist(),
                self.c_win.tolist(),
                self.c_cost.tolist(),
                self.c_p.tolist(),
                self.c_forced.tolist(),
                self.c_crew.tolist(),
                strict=True,
            )  # fmt: skip
        ]

    @cached_property
    def by_asset(self) -> list[list[int]]:
        p = self.a_ptr.tolist()
        return [list(range(p[i], p[i + 1])) for i in range(len(self.assets))]

    @cached_property
    def visits(self) -> dict[tuple[str, int], list[tuple[int, float, float]]]:
        """(site id, day) -> [(crew index, hours for jobs, visit cost)], every site-day with candidates."""
        out: dict[tuple[str, int], list[tuple[int, float, float]]] = {
            (self.sites[s], d): [] for s, d in self.site_days
        }
        for s, d, j, cap, vc in zip(
            self.v_site.tolist(), self.v_day.tolist(), self.v_crew.tolist(),
            self.v_cap.tolist(), self.v_cost.tolist(), strict=True,
        ):  # fmt: skip
            out.setdefault((self.sites[s], d), []).append((j, cap, vc))
        return out

    @cached_property
    def part_lists(self) -> list[tuple[str, str, int, list[int]]]:
        return [(dep, part, cap, idx.tolist()) for dep, part, cap, idx in self.parts]


@dataclass
class Solution:
    chosen: dict[int, int]  # component -> candidate
    crew_of: dict[tuple[str, int], int]  # (site id, day) -> crew

    def objective(self, pr: Problem) -> float:
        total = float(pr.none_cost.sum())
        for i, k in self.chosen.items():
            total += float(pr.c_cost[k]) - float(pr.none_cost[i])
        for key, j in self.crew_of.items():
            total += next(v[2] for v in pr.visits[key] if v[0] == j)
        return total
