"""The loop as the running platform lives it: its workers and the simulator, for some days.

``run_catch_up`` hosts what ``prognos serve`` hosts (``hosting.workers_for``: the forecast
refresher, the continuous planner, the alarm round, upkeep) and the demo's simulator with its
crews (``demo.simulator``, ``demo.crews``), in this process, and lets simulated time run
``speed`` times faster than the clock until ``until``. Nothing is stubbed: readings go through
ingest, forecasts are refreshed by the refresher, plans are made by the planner worker from the
data clock, crews do the jobs on their day and the simulator fits the new part then; a part that
reaches its true end of life first fails, and the simulator records the failure and its repair.

The ``LifeLog`` keeps what only the simulator knows: every part's true end of life, and how each
life ended (failed, or replaced by a planned job at some share of its life). ``bench loop`` and
the demo's story test score the run against it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from prognos.demo.crews import SimulatedCrews
from prognos.demo.simulator import Simulator, live_fleet
from prognos.service.platform import Platform
from prognos.sim.live import UNIT_SECONDS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Life:
    """One part's life in the simulation: when it began, when it would fail, how it ended."""

    asset_id: str
    type_id: str
    start: datetime
    end_of_life: datetime  # its true end of life (known to the simulator only)
    ended_at: datetime | None = None  # None: still running at the end of the run
    failed: bool = False  # ended by failing (else by a planned replacement, or not yet)


@dataclass
class LifeLog:
    """Every life the simulated fleet lived during a run."""

    lives: list[Life] = field(default_factory=list)
    current: dict[str, Life] = field(default_factory=dict)

    def begin(self, fleet, asset_id: str, type_id: str) -> None:
        start = fleet.installed(asset_id)
        if start is None:
            return
        eol = start + timedelta(seconds=fleet.life(asset_id) * UNIT_SECONDS[type_id])
        self.current[asset_id] = Life(asset_id, type_id, start, eol)

    def end(self, asset_id: str, at: datetime) -> None:
        life = self.current.pop(asset_id, None)
        if life is not None:
            failed = at >= life.end_of_life
            self.lives.append(
                Life(life.asset_id, life.type_id, life.start, life.end_of_life, at, failed)
            )

    def all(self) -> list[Life]:
        return [*self.lives, *self.current.values()]


def _follow(fleet, log_: LifeLog) -> None:
    """Record each replacement (a failure's repair, a crew's job) as the end of a life."""
    types = {a.asset_id: a.type_id for a in fleet.assets}
    replace = fleet.replace

    def replaced(asset_id: str, at: datetime) -> None:
        log_.end(asset_id, at)
        replace(asset_id, at)
        log_.begin(fleet, asset_id, types[asset_id])

    fleet.replace = replaced  # this run's fleet only: the simulator calls it
    for a in fleet.assets:
        log_.begin(fleet, a.asset_id, a.type_id)


def _rounds(worker: Any) -> list[float]:
    """``[t]``: the monotonic time at which ``worker``'s latest completed round began."""
    out, tick = [0.0], worker.tick

    def counted() -> None:
        began = time.monotonic()
        tick()
        out[0] = began

    worker.tick = counted  # this run's worker only
    return out


class Pacer:
    """Holds simulated time back so that it runs at most ``lead`` ahead of what the refresher
    and the planner have seen: each records the simulated time at the start of its latest
    round, and the simulator may not pass the oldest of them by more than ``lead``.

    A plant's clock gives the refresher and the planner a day's worth of wall time for every
    day; a replay at a day per 20 s does not, and under load a refresher round over the fleet
    (half a minute) let the data run days ahead of the forecasts: the planner then planned
    from week-old forecasts and engines failed before their jobs. Paced, a run takes longer
    where the machine is slow, but it measures the loop, not the machine."""

    def __init__(self, start: datetime, lead: timedelta):
        self.lead = lead
        self.seen: dict[str, datetime] = {}
        self._start = start
        self.clock = lambda: start

    def follow(self, name: str, worker: Any) -> None:
        """Record the simulated time at the start of each of ``worker``'s rounds."""
        tick = worker.tick
        self.seen[name] = self._start

        def paced() -> None:
            at = self.clock()
            tick()
            self.seen[name] = max(self.seen[name], at)

        worker.tick = paced  # this run's worker only

    def hold(self) -> datetime | None:
        return min(self.seen.values()) + self.lead if self.seen else None


def run_catch_up(
    platform: Platform,
    until: datetime,
    *,
    speed: float,
    tick_s: float = 0.25,
    timeout_s: float = 3600.0,
    progress=None,
    lead_hours: float | None = None,
) -> dict[str, Any]:
    """Run the platform's workers and the simulator from where history ends to ``until``.

    ``lead_hours``: at most this much simulated time ahead of the refresher's and the planner's
    latest rounds (``Pacer``; None: the simulator runs at ``speed`` whatever they do).
    Returns the simulator's and the planner's status, the life log (``"lives"``) and the wall
    time. The workers are stopped before it returns."""
    from prognos.service.hosting import workers_for

    fleet = live_fleet(platform)
    lives = LifeLog()
    _follow(fleet, lives)
    workers = workers_for(platform)
    pacer = None
    if lead_hours is not None:
        due = fleet.next_due or until
        pacer = Pacer(due - timedelta(seconds=1), timedelta(hours=lead_hours))
        for name in ("forecast_refresh", "planner"):
            if name in workers:
                pacer.follow(name, workers[name])
    rounds = _rounds(workers["forecast_refresh"]) if "forecast_refresh" in workers else None
    sim = Simulator(
        platform,
        fleet,
        speed,
        tick_s=tick_s,
        clock=lambda: until,
        crews=SimulatedCrews(platform),
        hold=pacer.hold if pacer is not None else None,
    )
    if pacer is not None:
        pacer.clock = lambda: sim.sim_time
    # the alarm lifecycle's server clock follows simulated time (its normal periods, the time
    # an alarm was last touched): a day of replay is a day for the alarms too
    server_clock = platform.alarms.clock
    platform.alarms.clock = lambda: sim.sim_time
    t0 = time.monotonic()
    for w in workers.values():
        w.start()
    sim.start()
    try:
        while time.monotonic() - t0 < timeout_s:
            if sim.sim_time >= until and sim.backlog_s <= 0:
                break
            if progress:
                progress(sim.sim_time)
            time.sleep(0.5)
        # the last readings forecast and planned for, as a server would go on doing: wait for
        # a refresher round that began after the last readings ("pending" alone misses the
        # round in flight, and parts fitted in the last days kept the old part's forecast)
        caught_up = time.monotonic()
        deadline = caught_up + 120
        while rounds is not None and time.monotonic() < deadline:
            if rounds[0] > caught_up:
                break
            time.sleep(0.5)
    finally:
        sim.stop()
        for w in workers.values():
            w.stop()
        platform.alarms.clock = server_clock
    planner = workers.get("planner")
    if planner is not None:  # its next tick, on the last forecasts
        planner.check()
    return {
        "wall_s": round(time.monotonic() - t0, 1),
        "lead_hours": lead_hours,
        "simulator": sim.status(),
        "planner": planner.status() if planner is not None else None,
        "workers": {k: w.status() for k, w in workers.items()},
        "lives": lives.all(),
        "fleet": fleet,  # the simulator's fleet (seed, turbofan pool): a replay beside the run
        "start": sim.sim_start,
        "end": min(until, sim.sim_time),  # short of it only when timed out
    }
