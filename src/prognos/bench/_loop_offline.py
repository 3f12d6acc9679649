"""The offline planner's prevention on the loop's own world: ``offline_prevented_share``.

``bench loop`` measures what the running platform prevents; this replays, beside it, the
rolling policy of ``bench plan`` (``bench._policies.Prognos``) on the same world: the demo
world's sites, calendars, crews, depots, costs and travel as the platform holds them, the same
simulated assets, from the run's start to its end. The planner is given what the offline
benchmark gives it at scale (``bench plan --scale``): the simulator's truth blurred by a
lognormal, here one error of ``SIGMA`` drawn per part's life (a forecaster is wrong about a part
the same way all its life), as quantiles at the offline forecasters' levels, in days of the
clock. What it would not know is unchanged: every part's true end of life is the simulator's
(``LifeLog``), a new part's life is the simulator's own draw for that moment
(``LiveFleet.life_if_replaced``), a failed part is repaired ``REPAIR_HOURS`` later, and a job
prevents the failure only when its crew finishes (``START_HOUR`` local plus the job's hours)
before that end of life, as in the loop.

The policy is the offline one: re-plan every ``EVERY`` days, or sooner when an uncovered asset's
risk of failing within a week has doubled past ``TRIGGER_P``; jobs within two days are
committed; depot stock is the base stock less the parts planned replacements took within the
reorder lead time. The share counts as the loop's does: parts whose true end of life fell inside
the run, and of them those a planned job replaced first. It is the figure with forecasts about
as good as the offline benchmark's: the gap to ``prevented_share`` is what the platform's own
forecasts, timing and plumbing cost.
"""

from __future__ import annotations

import time as clock
import zlib
from datetime import UTC, date, datetime, time, timedelta
from statistics import NormalDist
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from prognos.bench._forecasters import LEVELS, LOWER_TAIL_SHAPE
from prognos.demo.crews import START_HOUR
from prognos.demo.world import REPAIR_HOURS
from prognos.domain.forecast import FailureForecast
from prognos.domain.keys import MANUFACTURER
from prognos.domain.planning import PlanAsset, WorkOrder, WorkOrderStatus
from prognos.errors import Infeasible
from prognos.planning.optimizer import plan
from prognos.sim.live import UNIT_SECONDS

SIGMA = 0.15  # lognormal blur of the truth, as ``bench plan --scale``
EVERY, HORIZON, TIME_LIMIT_S, MAX_CANDIDATES, TRIGGER_P = 7, 56, 2.0, 8, 0.03  # ``Prognos``
COMMIT_DAYS = 2  # jobs this close are dispatched: the next plan keeps them
DAY = timedelta(days=1)
_Z = np.array([NormalDist().inv_cdf(q) for q in LEVELS])


class _Part:
    """One asset's current part in the replay: its true end of life and its forecast error."""

    def __init__(
        self, asset_id: str, start: datetime, end_of_life: datetime, seed: int, sigma: float
    ):
        self.start, self.end_of_life, self.sigma = start, end_of_life, sigma
        key = [seed, zlib.crc32(asset_id.encode()), zlib.crc32(start.isoformat().encode())]
        self.bias = float(np.exp(np.random.default_rng(key).normal(0.0, sigma)))

    def forecast(self, key: str, now: datetime) -> FailureForecast:
        left = max((self.end_of_life - now).total_seconds() / 86400.0, 0.01)
        values = tuple(float(v) for v in left * self.bias * np.exp(self.sigma * _Z))
        return FailureForecast(key, now, LEVELS, values, "days", lower_tail_shape=LOWER_TAIL_SHAPE)


def offline_prevention(
    platform, run: dict[str, Any], seed: int = 0, sigma: float = SIGMA
) -> dict[str, Any]:
    """``offline_prevented_share`` and its counts for a ``run_catch_up`` result (``lives``,
    ``fleet``, ``start``, ``end``); the share is None, with the reason, when no part reached its
    end of life in the run. ``sigma``: the forecasts' lognormal error."""
    t0 = clock.process_time()
    start, end, fleet = run["start"], run["end"], run["fleet"]
    first: dict[str, Any] = {}
    for life in run["lives"]:  # the part each asset had when the run began
        if life.asset_id not in first or life.start < first[life.asset_id].start:
            first[life.asset_id] = life
    world = _World(platform, sorted(first))
    parts = {a: _Part(a, lf.start, lf.end_of_life, seed, sigma) for a, lf in first.items()}
    replay = _Replay(world, parts, fleet, seed, sigma)
    replay.run(start, end)
    inside = replay.inside
    out = {
        "offline_prevented_share": round(replay.prevented / inside, 3) if inside else None,
        "offline_failures": inside,
        "offline_failures_preceded_by_job": replay.prevented,
        "offline_replans": replay.replans,
        "offline_cpu_s": round(clock.process_time() - t0, 1),
    }
    out["offline_note"] = (
        f"bench plan's rolling policy on this world over the same {(end - start) / DAY:.1f} days, "
        f"forecasts the simulator's truth blurred by a lognormal (sigma {sigma})"
        if inside
        else f"no part reached its end of life in the run's {(end - start) / DAY:.1f} days: "
        "nothing to prevent"
    )
    return out


class _World:
    """What the platform's planner plans with, read once: sites, calendars, crews, stock,
    costs and travel of the manufacturer, and the assets among them it can plan."""

    def __init__(self, platform, asset_ids: list[str]):
        p = MANUFACTURER
        sites = {s.id: s for s in platform.registry.sites(p)}
        self.calendars = {c.site_id: c for c in platform.calendars.list_calendars(p)}
        self.costs = platform.resources.cost_models(p)
        self.crews = platform.resources.crews(p)
        self.stock = platform.resources.stock(p)
        self.travel = platform.resources.travel(p)
        snap = platform.registry.snapshot().assets
        self.assets = [
            PlanAsset(
                asset_id=a, site_id=x.site_id, region=sites[x.site_id].region, asset_type=x.type_id
            )  # fmt: skip
            for a in asset_ids
            if (x := snap.get(a)) is not None
            and x.site_id in self.calendars
            and (a in self.costs or x.type_id in self.costs)
        ]
        self.by_id = {a.asset_id: a for a in self.assets}
        self.zone = {a.asset_id: ZoneInfo(sites[a.site_id].timezone) for a in self.assets}
        self.type_of = {a: snap[a].type_id for a in asset_ids if a in snap}

    def cost(self, a: PlanAsset):
        return self.costs.get(a.asset_id) or self.costs[a.asset_type]


class _Replay:
    """The offline policy day by day, from the run's start to its end."""

    def __init__(self, world: _World, parts: dict[str, _Part], fleet, seed: int, sigma: float):
        self.world, self.parts, self.fleet = world, parts, fleet
        self.seed, self.sigma = seed, sigma
        self.orders: dict[str, tuple[WorkOrder, datetime]] = {}  # asset -> order, when done
        self.used: list[tuple[date, PlanAsset]] = []  # planned replacements, for the stock
        self.seen = np.zeros(len(world.assets))
        self.last: datetime | None = None
        self.replans = self.inside = self.prevented = 0
        self._start = self._end = datetime.min.replace(tzinfo=UTC)

    def run(self, start: datetime, end: datetime) -> None:
        self._start, self._end = start, end
        now = start
        while now < end:
            self._maybe_replan(now)
            self._live(min(now + DAY, end))
            now += DAY

    # -- what happens ------------------------------------------------------------------------
    def _live(self, until: datetime) -> None:
        """Jobs done and parts failed before ``until``, in each asset's own order."""
        for a, part in self.parts.items():
            while True:
                order = self.orders.get(a)
                done = order[1] if order else None
                if done is not None and done < part.end_of_life and done < until:
                    self._ended(a, part, prevented=True)
                    self.used.append((done.date(), self.world.by_id[a]))
                    self._new_part(a, done)
                elif part.end_of_life < until:
                    self._ended(a, part, prevented=False)
                    self._new_part(a, part.end_of_life + timedelta(hours=REPAIR_HOURS))
                else:
                    break
                part = self.parts[a]

    def _ended(self, asset_id: str, part: _Part, prevented: bool) -> None:
        self.orders.pop(asset_id, None)
        if self._start < part.end_of_life <= self._end:
            self.inside += 1
            self.prevented += int(prevented)

    def _new_part(self, asset_id: str, at: datetime) -> None:
        at = at.replace(microsecond=0)
        try:
            life = self.fleet.life_if_replaced(asset_id, at)
        except KeyError:  # not simulated any more: its next part outlives the run
            life = float("inf")
        seconds = life * UNIT_SECONDS[self.world.type_of[asset_id]]
        eol = at + timedelta(seconds=min(seconds, 1e10))
        self.parts[asset_id] = _Part(asset_id, at, eol, self.seed, self.sigma)

    # -- the policy ---------------------------------------------------------------------------
    def _maybe_replan(self, now: datetime) -> None:
        w = self.world
        if not w.assets or not w.crews:
            return
        fcs = {a.key: self.parts[a.asset_id].forecast(a.key, now) for a in w.assets}
        p_week = np.array([fcs[a.key].cdf(7.0) for a in w.assets])
        uncovered = np.array([a.asset_id not in self.orders for a in w.assets])
        jump = uncovered & (p_week > TRIGGER_P) & (p_week > 2 * self.seen)
        if self.last is None or now - self.last >= EVERY * DAY or jump.any():
            self._replan(now, fcs)
            self.seen = p_week

    def _replan(self, now: datetime, fcs: dict[str, FailureForecast]) -> None:
        w, soon = self.world, now.date() + timedelta(days=COMMIT_DAYS)
        committed = [
            o.model_copy(update={"status": WorkOrderStatus.dispatched}) if o.day <= soon else o
            for o, _ in self.orders.values()
        ]
        args = (fcs, w.assets, w.calendars, w.crews, self._stock(now.date()), w.costs)
        opts = {"now": now, "horizon_days": HORIZON, "travel": w.travel,
                "time_limit_s": TIME_LIMIT_S, "with_bound": False,
                "max_candidates": MAX_CANDIDATES}  # fmt: skip
        try:
            p = plan(*args, committed, **opts)
        except Infeasible:  # the committed jobs cannot all be kept: let the planner move them
            scheduled = {"status": WorkOrderStatus.scheduled}
            p = plan(*args, [o.model_copy(update=scheduled) for o in committed], **opts)
        self.replans += 1
        self.last = now
        self.orders = {}
        for j in p.jobs:
            a = w.by_id[j.asset_id]
            local = datetime.combine(j.day, time(START_HOUR), w.zone[a.asset_id])
            begin = max(local.astimezone(UTC), now)
            done = begin + timedelta(hours=w.cost(a).planned_job_hours)
            order = WorkOrder(id=f"{j.asset_id}@{j.day}", asset_id=j.asset_id,
                              site_id=j.site_id, day=j.day, crew_id=j.crew_id, part=j.part,
                              status=WorkOrderStatus.scheduled)  # fmt: skip
            self.orders[j.asset_id] = (order, done)

    def _stock(self, today: date) -> list:
        """Depot stock: the base stock less the parts planned replacements took within the
        reorder lead time (a failure is repaired with an expedited part), as ``bench plan``."""
        w, out = self.world, []
        for dep in w.stock:
            took = sum(
                1
                for day, a in self.used
                if w.cost(a).part == dep.part
                and a.region in dep.regions
                and (today - day).days <= dep.lead_time_days
            )
            out.append(dep.model_copy(update={"on_hand": max(dep.on_hand - took, 0)}))
        return out


def before_the_run(platform, days: float) -> dict[str, Any]:
    """What ``run_catch_up`` starts from, without running it: the simulator's fleet, each
    part's life, the start, and the end ``days`` later. The offline figure of a world alone
    (``offline_on_demo_world``, the tests) replays from it."""
    from prognos.demo.catchup import LifeLog
    from prognos.demo.simulator import live_fleet

    fleet = live_fleet(platform)
    lives = LifeLog()
    for a in fleet.assets:
        lives.begin(fleet, a.asset_id, a.type_id)
    due = fleet.next_due or datetime.now(UTC)
    start = due - timedelta(seconds=1)  # where the simulator's clock starts
    return {"start": start, "end": start + days * DAY, "lives": lives.all(), "fleet": fleet}


def offline_on_demo_world(
    days: float = 90.0, seed: int = 0, max_units: int | None = None, sigma: float = SIGMA
) -> dict[str, Any]:
    """The offline figure alone for a demo world built as ``bench loop`` builds it (no
    training, no loop): seconds instead of the loop's hour.

        python -c "from prognos.bench._loop_offline import offline_on_demo_world as f; print(f())"
    """
    import tempfile
    from pathlib import Path

    from prognos.config import Settings
    from prognos.demo.history import build_demo_world
    from prognos.service.platform import open_platform

    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        p = open_platform(Settings(db=str(where / "offline.duckdb"), artifacts_dir=where / "a"))
        try:
            now = datetime.now(UTC).replace(microsecond=0)
            build_demo_world(p, seed=seed, now=now, catch_up_days=days, max_units=max_units)
            run = before_the_run(p, days)
            return {"assets": len(run["lives"]), **offline_prevention(p, run, seed, sigma)}
        finally:
            p.close()
