"""The four maintenance policies of ``prognos bench plan``, and the fair tuning of the baselines.

Every policy is asked each morning which assets to replace today, and sees only the fleet's
telemetry so far, ages, calendars (as imported from the customers' .ics) and forecasts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from prognos.bench._forecasters import CH_WIDTH, LEVELS, LOWER_TAIL_SHAPE, TF_WIDTH
from prognos.domain.forecast import FailureForecast
from prognos.domain.planning import PartStock, WorkOrder, WorkOrderStatus
from prognos.errors import Infeasible
from prognos.planning.optimizer import plan
from prognos.sim.fleet import Fleet
from prognos.sim.world import CHAIN, TURBOFAN

MEDIAN = LEVELS.index(0.5)


@dataclass
class Context:
    world: object
    profiles: dict  # site id -> DayProfile (from the imported .ics), from world.start
    tf: object
    ch: object
    planner_costs: dict
    workable: np.ndarray  # (sites, days): window day on which some crew works
    usage: np.ndarray  # (sites, days + 1): operating days before each day

    def quantiles(self, fleet: Fleet) -> np.ndarray:
        """Quantiles of remaining operating days of every asset, from telemetry so far."""
        out = np.zeros((len(fleet.kind), len(LEVELS)))
        idx, win, ages = fleet.turbofan_windows(TF_WIDTH)
        out[idx] = self.tf.quantiles(win, ages)
        idx, win, ages = fleet.chain_windows(CH_WIDTH)
        out[idx] = self.ch.quantiles(win, ages)
        return out


def tune_interval(lives: np.ndarray, c_planned: float, c_failure: float) -> int:
    """Age-replacement interval minimising expected cost per operating day on training lives."""
    best, arg = np.inf, int(lives.max())
    for tau in range(5, int(lives.max()) + 1):
        fail = lives <= tau
        rate = (c_failure * fail.mean() + c_planned * (~fail).mean()) / np.minimum(
            lives, tau
        ).mean()
        if rate < best:
            best, arg = rate, tau
    return arg


def tune_threshold(medians, ages, groups, lives, c_planned: float, c_failure: float) -> float:
    """Median-RUL threshold minimising cost per operating day, replaying training forecasts."""
    best, arg = np.inf, 0.0
    for theta in np.arange(2.0, 120.0, 2.0):
        cost = used = 0.0
        for g, life in enumerate(lives):
            m = groups == g
            hit = np.flatnonzero(medians[m] < theta)
            at = ages[m][hit[0]] + 1 if len(hit) else np.inf
            if at < life:
                cost, used = cost + c_planned, used + at
            else:
                cost, used = cost + c_failure, used + life
        if cost / used < best:
            best, arg = cost / used, float(theta)
    return arg


class RunToFailure:
    name = "run_to_failure"

    def jobs(self, fleet: Fleet, ctx: Context) -> list[int]:
        return []


@dataclass
class FixedInterval:
    """Replace at the last workable window before the age passes ``tau`` (per asset type)."""

    tau: dict[str, int]
    name: str = "fixed_interval"

    def jobs(self, fleet: Fleet, ctx: Context) -> list[int]:
        d, s = fleet.day, fleet.site
        nxt = _next_true(ctx.workable)
        ok = ctx.workable[s, d]
        later = ctx.usage[s, np.minimum(nxt[s, d], ctx.usage.shape[1] - 1)] - ctx.usage[s, d]
        tau = np.array([self.tau[k] for k in fleet.kind])
        return [int(i) for i in np.flatnonzero(ok & (fleet.age + later > tau))]


def _next_true(flags: np.ndarray) -> np.ndarray:
    """Index of the next True strictly after each day (n_days when none)."""
    n = flags.shape[1]
    out = np.full(flags.shape, n)
    nxt = np.full(flags.shape[0], n)
    for d in range(n - 1, -1, -1):
        out[:, d] = nxt
        nxt = np.where(flags[:, d], d, nxt)
    return out


@dataclass
class RulThreshold:
    """Replace the next day once the median forecast drops below ``theta`` (calendars ignored)."""

    theta: dict[str, float]
    name: str = "rul_threshold"
    pending: dict[int, int] = field(default_factory=dict)

    def jobs(self, fleet: Fleet, ctx: Context) -> list[int]:
        d = fleet.day
        today = [i for i, day in self.pending.items() if day <= d]
        for i in today:
            del self.pending[i]
        med = ctx.quantiles(fleet)[:, MEDIAN]
        theta = np.array([self.theta[k] for k in fleet.kind])
        for i in np.flatnonzero(med < theta):
            if int(i) not in self.pending and int(i) not in today:
                self.pending[int(i)] = d + 1
        return today


@dataclass
class Prognos:
    """Rolling plan: re-plan weekly, or sooner when an uncovered asset's risk jumps."""

    horizon: int = 56
    every: int = 7
    time_limit_s: float = 2.0
    max_candidates: int = 8
    trigger_p: float = 0.03
    name: str = "prognos"
    orders: dict[int, WorkOrder] = field(default_factory=dict)
    last: int = -(10**9)
    solves: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    infeasible: int = 0
    failed_with_order: int = 0
    seen: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def jobs(self, fleet: Fleet, ctx: Context) -> list[int]:
        d, w = fleet.day, ctx.world
        for e in (e for e in fleet.events if e["day"] == d - 1 and e["kind"] == "failure"):
            if self.orders.pop(e["asset"], None) is not None:
                self.failed_with_order += 1  # planned, but the risk it accepted came true
        q = ctx.quantiles(fleet)
        week = ctx.usage[fleet.site, min(d + 7, ctx.usage.shape[1] - 1)] - ctx.usage[fleet.site, d]
        if len(self.seen) != len(q):
            self.seen = np.zeros(len(q))
        p_week = np.array(
            [np.interp(u, qq, LEVELS, left=0.0, right=1.0) for u, qq in zip(week, q, strict=True)]
        )
        uncovered = np.array([i not in self.orders for i in range(len(q))])
        # re-plan early only on news: an uncovered asset whose weekly risk has doubled
        jump = uncovered & (p_week > self.trigger_p) & (p_week > 2 * self.seen[: len(q)])
        if d - self.last >= self.every or jump.any():
            self._replan(fleet, ctx, q)
            self.seen = p_week
        today = w.start + timedelta(days=d)
        done = [i for i, o in self.orders.items() if o.day <= today]
        for i in done:
            del self.orders[i]
        return done

    def _replan(self, fleet: Fleet, ctx: Context, q: np.ndarray) -> None:
        w, d = ctx.world, fleet.day
        now = datetime.combine(w.start + timedelta(days=d), datetime.min.time(), UTC)
        fcs = {
            a.key: FailureForecast(
                a.key, now, LEVELS, tuple(q[i]), lower_tail_shape=LOWER_TAIL_SHAPE
            )
            for i, a in enumerate(w.assets)
        }
        index = {a.key: i for i, a in enumerate(w.assets)}
        soon = now.date() + timedelta(days=2)
        committed = [
            o.model_copy(update={"status": WorkOrderStatus.dispatched}) if o.day <= soon else o
            for o in self.orders.values()
        ]
        stock = _stock(fleet, ctx)
        args = (fcs, w.assets, ctx.profiles, w.crews, stock, ctx.planner_costs)
        opts = {
            "now": now,
            "horizon_days": self.horizon,
            "travel": w.travel,
            "time_limit_s": self.time_limit_s,
            "with_bound": False,
            "max_candidates": self.max_candidates,
        }
        try:
            p = plan(*args, committed, **opts)
        except Infeasible:  # committed orders can no longer all be kept: let the planner move them
            self.infeasible += 1
            scheduled = {"status": WorkOrderStatus.scheduled}
            p = plan(*args, [o.model_copy(update=scheduled) for o in committed], **opts)
        self.solves.append(p.solve_seconds)
        self.statuses[p.status] = self.statuses.get(p.status, 0) + 1
        self.last = d
        orders = {}
        for j in p.jobs:
            i = index[j.asset_id]
            status = (
                WorkOrderStatus.dispatched
                if (j.day - now.date()).days <= 2
                else WorkOrderStatus.scheduled
            )
            orders[i] = WorkOrder(
                id=f"{j.asset_id}@{j.day}",
                asset_id=j.asset_id,
                site_id=j.site_id,
                day=j.day,
                crew_id=j.crew_id,
                part=j.part,
                status=status,
            )
        self.orders = orders


def _stock(fleet: Fleet, ctx: Context) -> list[PartStock]:
    """Depot stock now: the base stock less parts used within the reorder lead time."""
    w, d = ctx.world, fleet.day
    used: dict[tuple[str, str], int] = {}
    for e in fleet.events:
        if e["kind"] != "replacement":
            continue  # a failure is repaired with an expedited part, not from the depot
        a = w.assets[e["asset"]]
        cm = w.costs[a.asset_type]
        for dep in w.depots:
            if (
                dep.part == cm.part
                and a.region in dep.regions
                and d - e["day"] <= dep.lead_time_days
            ):
                used[(dep.depot_id, dep.part)] = used.get((dep.depot_id, dep.part), 0) + 1
    return [
        dep.model_copy(
            update={"on_hand": max(dep.on_hand - used.get((dep.depot_id, dep.part), 0), 0)}
        )
        for dep in w.depots
    ]


def run_policy(policy, ctx: Context, seed: int, progress=None) -> Fleet:
    fleet = Fleet(ctx.world, seed)
    for _ in range(ctx.world.n_days):
        fleet.replace(policy.jobs(fleet, ctx))
        fleet.end_day()
        if progress:
            progress()
    return fleet


__all__ = [
    "CHAIN",
    "TURBOFAN",
    "Context",
    "FixedInterval",
    "Prognos",
    "RulThreshold",
    "RunToFailure",
    "run_policy",
    "tune_interval",
    "tune_threshold",
]
