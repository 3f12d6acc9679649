"""``prognos simulate``: stream a live fleet's telemetry, in process or over MQTT.

The simulated clock starts where the fleet's history ends and runs ``speed`` times faster than
the wall clock until it reaches now; from then on it keeps pace with the clock (readings may not
lie in the future). Each tick sends what came due: into the platform (``InProcess``), or as one
MQTT message per asset to ``prognos/<customer>/<asset>/telemetry`` (``MqttPublisher``).
Memory stays bounded: a tick sends at most ``max_per_asset`` samples per asset (a fleet that fell
behind catches up over several ticks) and the MQTT client's outgoing queue is capped. A tick
that fails (store away, broker queue full) is logged and its readings are dropped, not kept:
the stream goes on with the next tick.

    sim = Simulator(platform, live_fleet(platform), speed=3600)   # 1 simulated hour a second
    sim.start()
    ...
    sim.stop()
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from prognos.demo.crews import Job, SimulatedCrews
from prognos.demo.history import run_history
from prognos.demo.transports import InProcess, MqttPublisher, Transport
from prognos.demo.turbofans import AIRLINES, held_out
from prognos.demo.world import REPAIR_HOURS, SIM_STATE, demo_world
from prognos.domain import Asset
from prognos.domain.keys import MANUFACTURER
from prognos.service.platform import Platform
from prognos.service.workers.base import LoopWorker
from prognos.sim.live import (
    CHAIN_DRIVE,
    CMAPSS_CHANNELS,
    ELEVATOR,
    JOIN_CYCLES,
    TURBOFAN,
    LiveAsset,
    LiveFleet,
    load_turbofan_pool,
)

log = logging.getLogger(__name__)
SIMULATED = (ELEVATOR, CHAIN_DRIVE, TURBOFAN)
_TEST_UNIT = re.compile(r"^(FD00\d)-test-(\d+)$")
_TRAIN_UNIT = re.compile(r"^(FD00\d)-train-(\d+)$")
MIN_POOL = 10  # train units a subset must hold out to continue its own engines


# -- fleets -------------------------------------------------------------------------------------
def live_fleet(platform: Platform, seed: int | None = None, data_dir=None) -> LiveFleet:
    """The platform's elevators, chains and in-service turbofans, continuing from their histories.

    The seed and sampling of the demo world (``build_demo_world``) are used when it was built;
    an asset whose current life ended in a labelled failure (a run-to-failure unit) is left out.
    """
    doc = platform.state.get(MANUFACTURER, SIM_STATE) or {}
    seed = doc.get("seed", 0) if seed is None else seed
    workdays = {k: tuple(v) for k, v in doc.get("workdays", {}).items()}
    sites = {s.id: s for s in platform.registry.sites(MANUFACTURER)}
    ended: dict[str, datetime] = {}
    for ev in platform.orders.failures(MANUFACTURER):
        at = datetime.fromisoformat(ev["at"])
        ended[ev["asset_id"]] = max(at, ended.get(ev["asset_id"], at))
    assets, registered, taken = [], set(), set()
    ruls: dict[str, Any] = {}
    history_end = doc.get("history_end")
    history_end = datetime.fromisoformat(history_end) if history_end else None
    for a in sorted(platform.registry.snapshot().assets.values(), key=lambda a: a.id):
        if m := _TEST_UNIT.match(a.serial):
            registered.add(m.group(1))
        if m := _TRAIN_UNIT.match(a.serial):
            taken.add((m.group(1), int(m.group(2))))
        if (
            a.type_id not in SIMULATED
            or a.retired
            or (a.id in ended and ended[a.id] >= a.installed_at)
        ):
            continue
        last = platform.telemetry.span(MANUFACTURER, a.id)[1]
        # NASA's RUL is the life of the engine's first part, not of one fitted since
        first = a.type_id == TURBOFAN and (history_end is None or a.installed_at < history_end)
        assets.append(
            LiveAsset(
                a.id,
                a.customer_id,
                a.type_id,
                a.installed_at,
                last_ts=last,
                timezone=sites[a.site_id].timezone,
                workdays=workdays.get(a.site_id, (0, 1, 2, 3, 4)),
                life=_turbofan_life(a, last, ruls, data_dir) if first else None,
                level=_level(platform, a, last) if first else None,
            )
        )
    return LiveFleet(
        assets,
        seed,
        sample_minutes=float(doc.get("sample_minutes", 10.0)),
        turbofan_pool=_pool(registered, data_dir, taken)
        if any(a.type_id == TURBOFAN for a in assets)
        else None,
    )


def _pool(registered: set[str], data_dir, taken: set[tuple[str, int]] = frozenset()) -> list:
    """C-MAPSS train units no forecaster trained on: of the engines' own subsets the units
    not loaded as history (``taken``), if ``MIN_POOL`` are left, so an engine fails the way its
    fleet's history did (FD003's fan fault is one FD001's history never shows); else another's."""
    pool = []
    for sub in sorted(registered):
        units = load_turbofan_pool((sub,), data_dir)
        pool += [u for k, u in enumerate(units, start=1) if (sub, k) not in taken]
    if len(pool) >= MIN_POOL:
        return pool
    others = tuple(s for s in ("FD001", "FD003") if s not in registered) or ("FD003",)
    return load_turbofan_pool(others, data_dir)


def _level(platform: Platform, a: Asset, last: datetime | None) -> tuple[float, ...] | None:
    """The mean of an engine's last ``JOIN_CYCLES`` cycles, channel by channel (where its
    continuation joins), or None without them all."""
    if last is None:
        return None
    long = platform.telemetry.history(
        MANUFACTURER, a.id, list(CMAPSS_CHANNELS), start=last - timedelta(days=JOIN_CYCLES - 0.5)
    )
    means = long.groupby("channel")["value"].mean()
    if not set(CMAPSS_CHANNELS) <= set(means.index):
        return None
    return tuple(float(means[c]) for c in CMAPSS_CHANNELS)


def _turbofan_life(a: Asset, last: datetime | None, ruls: dict, data_dir) -> float | None:
    """A C-MAPSS test engine's true life: its age plus the RUL NASA published for it."""
    m = _TEST_UNIT.match(a.serial)
    if m is None or last is None:
        return None
    from prognos.data import dataset_dir, open_text

    sub, unit = m.group(1), int(m.group(2))
    if sub not in ruls:
        with open_text(dataset_dir("cmapss", data_dir), f"RUL_{sub}.txt") as fh:
            ruls[sub] = np.loadtxt(fh, dtype=float, ndmin=1)
    age = round((last - a.installed_at).total_seconds() / 86400.0)
    return float(age + ruls[sub][unit - 1])


def world_fleet(
    seed: int = 0,
    now: datetime | None = None,
    catch_up_days: float = 28.0,
    subset: str | None = "FD001",
    data_dir=None,
) -> LiveFleet:
    """The demo world's fleet without a database (``prognos simulate --broker``): the same
    elevators, chains and in-service C-MAPSS engines ``build_demo_world`` writes for the same
    seed and day, continuing from where their histories end."""

    from prognos.analytics.cmapss import load_subset

    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    world = demo_world(seed, now - timedelta(days=catch_up_days))
    end = world.history_end
    current, _ = run_history(None, world, 120.0)
    sites = {s.id: s for s in world.sites}
    assets = [
        LiveAsset(
            a.id,
            a.customer_id,
            a.type_id,
            current[a.id],
            last_ts=end,
            timezone=sites[a.site_id].timezone,
            workdays=world.workdays[a.site_id],
        )
        for a in world.assets
    ]
    pool = None
    if subset:
        data = load_subset(subset, data_dir)
        last = data.test.groupby("unit")["cycle"].max()
        for u, cycles in last.items():
            cid, _, tz, _ = AIRLINES[(u - 1) % len(AIRLINES)]
            assets.append(
                LiveAsset(
                    f"{subset.lower()}-e{u:03d}",
                    cid,
                    TURBOFAN,
                    end - timedelta(days=int(cycles)),
                    last_ts=end,
                    timezone=tz,
                    life=float(cycles + data.test_rul[u - 1]),
                )
            )
        units = data.train["unit"].unique()
        kept = set(held_out(units))  # as build_demo_world loads the history
        pool = _pool({subset}, data_dir, {(subset, int(u)) for u in units if int(u) not in kept})
    return LiveFleet(assets, seed, turbofan_pool=pool)


# -- the simulator ------------------------------------------------------------------------------
class Simulator(LoopWorker):
    """Streams a ``LiveFleet`` on a worker thread; ``start()``, ``stop()``, ``status()``.

    ``target`` is a ``Platform`` (in-process), a broker URL ``mqtt://...`` or a ``Transport``;
    with a broker URL, ``platform`` (optional) records failures and follows replacements.
    With ``crews`` the simulated crews do the scheduled jobs as simulated time reaches them.
    """

    def __init__(
        self,
        target: Platform | str | Transport,
        fleet: LiveFleet,
        speed: float = 3600.0,
        *,
        platform: Platform | None = None,
        tick_s: float = 1.0,
        start: datetime | None = None,
        max_per_asset: int = 144,
        log_every_s: float = 60.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        crews: SimulatedCrews | None = None,
        hold: Callable[[], datetime | None] | None = None,
    ):
        super().__init__(tick_s)
        self.hold = hold  # the latest simulated time it may reach now (None: no limit)
        self.held = 0  # ticks held back by it
        if isinstance(target, Platform):
            self.transport: Any = InProcess(target)
        elif isinstance(target, str):
            self.transport = MqttPublisher(target, platform=platform)
        else:
            self.transport = target
        self.fleet = fleet
        self.speed = float(speed)
        self.tick_s = tick_s
        self.max_per_asset = max_per_asset
        self.log_every_s = log_every_s
        self.clock = clock
        due = fleet.next_due
        self.sim_start = start or ((due - timedelta(seconds=1)) if due else clock())
        self.sim_time = self.sim_start
        self.readings = 0
        self.ticks = 0
        self.errors = 0
        self.failures = 0
        self.jobs = 0
        self.crews = crews
        self._t0 = 0.0
        self._last_log = 0.0
        self._last_check = 0.0
        self._logged_readings = 0

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> Simulator:
        if self.running:
            return self
        self._t0 = self._last_log = self._last_check = time.monotonic()
        super().start()
        log.info(
            "simulator: %d assets from %s at %gx (%s)",
            len(self.fleet.assets),
            self.sim_start.isoformat(),
            self.speed,
            type(self.transport).__name__,
        )
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the tick in hand and close the transport."""
        super().stop(timeout)
        try:
            self.transport.close()
        except Exception:
            log.exception("simulator: closing the transport failed")

    @property
    def backlog_s(self) -> float:
        """Simulated seconds the fleet is behind the simulated clock (catching up, capped ticks)."""
        due = self.fleet.next_due
        return max((self.sim_time - due).total_seconds(), 0.0) if due else 0.0

    # -- one step ------------------------------------------------------------------------------
    def tick(self) -> int:
        """Send what came due since the last tick, the crews' jobs done on the way; never
        raises (a bad tick is logged)."""
        now = time.monotonic()
        try:
            elapsed = now - self._t0 if self._t0 else 0.0
            target = self.sim_start + timedelta(seconds=self.speed * elapsed)
            cap = self.hold() if self.hold is not None else None
            if cap is not None and target > max(cap, self.sim_time):
                # held back: the clock resumes from here, it does not jump to catch up later
                target = max(cap, self.sim_time)
                self._t0 = now - (target - self.sim_start).total_seconds() / self.speed
                self.held += 1
            self.sim_time = min(target, self.clock())
            if now - self._last_check >= self.log_every_s:
                self._follow_replacements()
            n = 0
            if self.crews is not None:
                for job in self.crews.due(self.sim_time):
                    n += self._send(job.start)  # the old part runs until the crew arrives
                    if self.fleet.installed(job.order.asset_id) is None:
                        continue
                    job = self._not_before_sent(job)
                    if self.crews.work(job, lambda a, t=job.start: self.fleet.life_used(a, t)):
                        self.fleet.replace(job.order.asset_id, job.done)
                        self.jobs += 1
            n += self._send(self.sim_time)
            self.readings += n
            self.ticks += 1
        except Exception as e:  # one bad tick must not end the stream, nor the server
            self.errors += 1
            self.last_error = f"{type(e).__name__}: {e}"
            if self.errors <= 3 or self.errors % 100 == 0:
                log.exception("simulator: tick failed (%d so far)", self.errors)
            n = 0
        if now - self._last_log >= self.log_every_s:
            self._log_line(now)
        return n

    def _not_before_sent(self, job: Job) -> Job:
        """A job whose day came while the part's readings had already run past it (the order
        was made or moved late, the clock moved on meanwhile) is done when the crew can come,
        after the last reading sent: the old part's readings stay the old part's, and the new
        part's life does not begin in the past with its predecessor's wear on its first days."""
        sent = self.fleet.sent_until(job.order.asset_id)
        if sent is None or sent <= job.start:
            return job
        return dataclasses.replace(job, start=sent, done=sent + (job.done - job.start))

    def _send(self, until: datetime) -> int:
        """Readings due up to ``until`` out; parts that failed on the way repaired."""
        n = self.transport.send(self.fleet.advance_wide(until, self.max_per_asset))
        for f in self.fleet.pop_failures():
            new_life = (f.at + timedelta(hours=REPAIR_HOURS)).replace(microsecond=0)
            self.transport.failed(f, new_life)
            self.fleet.replace(f.asset_id, new_life)
            self.failures += 1
        return n

    def _follow_replacements(self) -> None:
        """A part replaced through a work order starts a new life in the simulation too."""
        self._last_check = time.monotonic()
        for asset_id, installed in self.transport.replaced().items():
            current = self.fleet.installed(asset_id)
            if current is not None and installed > current:
                self.fleet.replace(asset_id, installed)

    def _log_line(self, now: float) -> None:
        rate = (self.readings - self._logged_readings) / max(now - self._last_log, 1e-9)
        self._last_log, self._logged_readings = now, self.readings
        log.info(
            "simulator: simulated time %s, %d readings (%.0f/s), %d failures, %d errors",
            self.sim_time.strftime("%Y-%m-%d %H:%M"),
            self.readings,
            rate,
            self.failures,
            self.errors,
        )

    def details(self) -> dict[str, Any]:
        return {
            "transport": type(self.transport).__name__,
            "speed": self.speed,
            "sim_time": self.sim_time.isoformat(),
            "lag_s": max((self.clock() - self.sim_time).total_seconds(), 0.0),
            "backlog_s": self.backlog_s,
            "assets": len(self.fleet.assets),
            "readings": self.readings,
            "ticks": self.ticks,
            "failures": self.failures,
            "jobs_done": self.jobs,
            "errors": self.errors,
            "held_ticks": self.held,
        }


def simulator_for(platform: Platform) -> Simulator:
    """The demo's simulator as ``prognos serve`` hosts it (``PROGNOS_SIMULATE``): over MQTT when
    a broker is configured, else straight into the platform."""
    s = platform.settings
    target: Platform | str = s.mqtt_broker or platform
    return Simulator(
        target,
        live_fleet(platform),
        s.simulate_speed,
        platform=platform,
        crews=SimulatedCrews(platform),
    )
