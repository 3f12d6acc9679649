"""Run the world day by day: components age on operating days, fail at the end of their true
life, and are replaced by failures or by the jobs a policy orders.

A policy sees only :meth:`Fleet.turbofan_windows` / :meth:`Fleet.chain_windows` (telemetry so
far), ages and calendars; true lives stay private (``_life``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from prognos.sim.cmapss import INFORMATIVE
from prognos.sim.world import CHAIN, CHAIN_NOISE, TURBOFAN, World, chain_path


@dataclass
class Tally:
    unplanned_stoppages: int = 0
    unplanned_downtime_hours: float = 0.0
    planned_jobs: int = 0
    out_of_window_jobs: int = 0
    blackout_jobs: int = 0
    parts_used: int = 0
    wasted: list[int] = field(default_factory=list)
    total_cost: float = 0.0
    by_type: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float]:
        return {
            "unplanned_stoppages": self.unplanned_stoppages,
            "unplanned_downtime_hours": round(self.unplanned_downtime_hours, 1),
            "planned_jobs": self.planned_jobs,
            "out_of_window_jobs": self.out_of_window_jobs,
            "blackout_jobs": self.blackout_jobs,
            "parts_used": self.parts_used,
            "mean_wasted_life": round(float(np.mean(self.wasted)) if self.wasted else 0.0, 2),
            "total_cost": round(self.total_cost, 0),
            "by_type": self.by_type,
        }


class Fleet:
    def __init__(self, world: World, seed: int = 0):
        self.world = world
        # one stream per asset: the k-th component of an asset is the same under every policy
        self._rngs = [np.random.default_rng((seed, 7919, i)) for i in range(len(world.assets))]
        self.day = 0
        site_index = {s.id: k for k, s in enumerate(world.sites)}
        self.site = np.array([site_index[a.site_id] for a in world.assets])
        self.kind = np.array([a.asset_type for a in world.assets])
        flags = [world.calendars[s.id].truth(world.start, world.n_days) for s in world.sites]
        self.operating = np.array([f[0] for f in flags])
        self.blackout = np.array([f[1] for f in flags])
        n = len(world.assets)
        self.age = np.zeros(n, dtype=int)
        self._life = np.zeros(n, dtype=int)
        self._traj: dict[int, np.ndarray] = {}
        self._chain: dict[int, np.ndarray] = {}
        self.tally = Tally()
        self.events: list[dict] = []
        for i in range(n):
            self._install(i)
            self.age[i] = int(self._rngs[i].uniform(0, 0.9) * self._life[i])

    def _install(self, i: int) -> None:
        rng = self._rngs[i]
        if self.kind[i] == TURBOFAN:
            t = self.world.sim_trajectories[int(rng.integers(len(self.world.sim_trajectories)))]
            self._traj[i], self._life[i] = t.sensors, t.life
        else:
            e, life = chain_path(rng)
            self._chain[i] = e + rng.normal(0, CHAIN_NOISE, size=len(e))
            self._life[i] = life
        self.age[i] = 0

    # -- what a service organisation can see ------------------------------------------------
    def turbofan_windows(self, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Asset indices, their last ``width`` sensor rows (edge-padded), and ages."""
        idx = np.flatnonzero(self.kind == TURBOFAN)
        out = np.empty((len(idx), width, len(INFORMATIVE)))
        for n, i in enumerate(idx):
            rows = self._traj[i][max(0, self.age[i] - width) : max(self.age[i], 1)]
            out[n] = np.concatenate([np.repeat(rows[:1], width - len(rows), axis=0), rows])
        return idx, out, self.age[idx].copy()

    def chain_windows(self, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Asset indices, their last ``width`` elongation readings (NaN-padded), and ages."""
        idx = np.flatnonzero(self.kind == CHAIN)
        out = np.full((len(idx), width), np.nan)
        for n, i in enumerate(idx):
            rows = self._chain[i][max(0, self.age[i] + 1 - width) : self.age[i] + 1]
            out[n, width - len(rows) :] = rows
        return idx, out, self.age[idx].copy()

    def in_window(self, i: int, day: int | None = None) -> bool:
        d = self.day if day is None else day
        return not self.operating[self.site[i], d] and not self.blackout[self.site[i], d]

    # -- what happens ---------------------------------------------------------------------
    def _book(self, kind: str, key: str, value: float) -> None:
        self.tally.by_type.setdefault(str(kind), {}).setdefault(key, 0.0)
        self.tally.by_type[str(kind)][key] += value

    def replace(self, jobs: list[int]) -> None:
        """Planned replacements at the start of today."""
        visits = set()
        for i in dict.fromkeys(jobs):
            cm = self.world.costs[self.kind[i]]
            inside = self.in_window(i)
            cost = cm.planned_cost(in_window=inside)
            visits.add(self.site[i])
            t = self.tally
            t.planned_jobs += 1
            t.parts_used += 1
            t.out_of_window_jobs += int(not inside)
            t.blackout_jobs += int(self.blackout[self.site[i], self.day])
            t.wasted.append(int(self._life[i] - self.age[i]))
            t.total_cost += cost
            self._book(self.kind[i], "planned_jobs", 1)
            self._book(self.kind[i], "wasted_life", int(self._life[i] - self.age[i]))
            self._book(self.kind[i], "cost", cost)
            self.events.append(
                {"day": self.day, "asset": i, "kind": "replacement", "age": int(self.age[i])}
            )
            self._install(i)
        self.tally.total_cost += len(visits) * self.world.visit_cost()

    def end_day(self) -> list[int]:
        """Operate today; returns the assets that failed (already repaired)."""
        self.age += self.operating[self.site, self.day]
        failed = np.flatnonzero(self.age >= self._life)
        for i in failed:
            cm = self.world.costs[self.kind[i]]
            t = self.tally
            t.unplanned_stoppages += 1
            t.unplanned_downtime_hours += cm.unplanned_repair_hours
            t.parts_used += 1
            cost = cm.unplanned_cost + self.world.visit_cost()
            t.total_cost += cost
            self._book(self.kind[i], "failures", 1)
            self._book(self.kind[i], "cost", cost)
            self.events.append(
                {"day": self.day, "asset": int(i), "kind": "failure", "age": int(self.age[i])}
            )
            self._install(int(i))
        self.day += 1
        return [int(i) for i in failed]
