"""The simulator's crews: a job whose day the readings already ran past is done late, not in the past."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from prognos.demo.crews import Job
from prognos.demo.simulator import Simulator
from prognos.domain import WorkOrder
from prognos.sim.live import CHAIN_DRIVE, LiveAsset, LiveFleet

END = datetime(2026, 3, 2, tzinfo=UTC)


class _Transport:
    def __init__(self):
        self.last: dict[str, datetime] = {}

    def send(self, samples) -> int:
        for s in samples:
            ts = s.ts.max().astype("datetime64[us]").item().replace(tzinfo=UTC)
            self.last[s.asset_id] = max(self.last.get(s.asset_id, ts), ts)
        return sum(len(s.ts) for s in samples)

    def failed(self, failure, new_life) -> None:
        pass

    def replaced(self):
        return {}

    def close(self) -> None:
        pass


class _Crews:
    def __init__(self, jobs: list[Job]):
        self.jobs, self.worked = jobs, []

    def due(self, until: datetime) -> list[Job]:
        out, self.jobs = self.jobs, []
        return out

    def work(self, job: Job, wear) -> bool:
        self.worked.append((job, wear(job.order.asset_id)))
        return True


def test_a_job_planned_for_a_day_already_streamed_starts_after_the_last_reading():
    fleet = LiveFleet(
        [LiveAsset("ch-1", "plant", CHAIN_DRIVE, END - timedelta(days=100), last_ts=END)]
    )
    t = _Transport()
    clock = [END + timedelta(days=2)]
    sim = Simulator(t, fleet, speed=1e6, start=END, clock=lambda: clock[0], max_per_asset=1000)
    sim._t0 = time.monotonic() - 10  # as if started a while ago: the clock caps simulated time
    sim.tick()  # two days of readings out
    streamed = t.last["ch-1"]
    assert streamed > END + timedelta(days=1, hours=12)
    # the plan put a job on yesterday 08:00: the crew can only come now
    order = WorkOrder(id="WO-1", asset_id="ch-1", site_id="s", day=date(2026, 3, 3))
    yesterday = END + timedelta(days=1, hours=8)
    sim.crews = _Crews([Job(order, yesterday, yesterday + timedelta(hours=2))])
    clock[0] = END + timedelta(days=2, hours=1)
    sim.tick()
    ((job, used),) = sim.crews.worked
    assert job.start >= streamed and job.done - job.start == timedelta(hours=2)
    # the new part's life begins after every reading of the old one
    assert fleet.installed("ch-1") == job.done > streamed
    assert used == fleet_share_used(100 + (job.start - END).total_seconds() / 86400)


def fleet_share_used(age_days: float) -> float:
    """What the crew measured: the old part's share of life at the moment of the job."""
    ref = LiveFleet(
        [LiveAsset("ch-1", "plant", CHAIN_DRIVE, END - timedelta(days=100), last_ts=END)]
    )
    return ref.life_used("ch-1", END - timedelta(days=100) + timedelta(days=age_days))


def test_simulated_time_waits_for_the_workers_and_resumes_without_a_jump():
    from prognos.demo.catchup import Pacer

    fleet = LiveFleet(
        [LiveAsset("ch-1", "plant", CHAIN_DRIVE, END - timedelta(days=100), last_ts=END)]
    )
    pacer = Pacer(END, timedelta(hours=6))
    refresher = type("W", (), {"rounds": 0, "tick": lambda self: None})()
    pacer.follow("forecast_refresh", refresher)
    sim = Simulator(_Transport(), fleet, speed=864000.0, start=END, hold=pacer.hold)
    pacer.clock = lambda: sim.sim_time
    sim._t0 = time.monotonic() - 2  # ten simulated days a second: twenty days are due
    sim.tick()
    assert sim.sim_time == END + timedelta(hours=6) and sim.held == 1  # the refresher saw END
    refresher.tick()  # a round starts (and ends) at END + 6 h
    sim._t0 -= 1  # a second later: ten more days due, six hours allowed
    sim.tick()
    assert sim.sim_time == END + timedelta(hours=12)
    refresher.tick()
    sim.hold = None  # no limit: on from where it was held, not from where it would have been
    sim.tick()
    assert END + timedelta(hours=12) < sim.sim_time < END + timedelta(days=10)
