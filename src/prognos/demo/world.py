"""The demo world: customers, sites, calendars, crews, parts, costs, and a fleet with a past.

Besides the C-MAPSS airlines (``demo.turbofans``) it registers a building-services company with
elevators in Shanghai and Berlin, a bottling plant and a car plant with drive chains. Every
site gets a production calendar sent as iCalendar; the manufacturer gets crews with skills and
home regions, part depots, cost models and travel times. Elevators and chains get months of
history from the live simulator's own models (``sim.live``), so the simulator later continues
each asset where its history ends; a part that wore out in that past left a labelled failure
event and was replaced (a new life), which is what training learns from.

History ends ``catch_up_days`` before now: readings may not lie in the future, so the simulator
replays that stretch at its time-acceleration factor and then runs at the speed of the clock.

    summary = build_demo_world(platform, seed=0)      # ~40 s with the full FD001 fleet
    fleet = simulator.live_fleet(platform)           # continues where the history ends
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np

from prognos.demo.turbofans import TURBOFAN
from prognos.domain import Asset, Customer, Site
from prognos.domain.planning import Crew, PartStock, Travel
from prognos.sim.calendars import CalendarSpec, make_spec
from prognos.sim.costs import cost_models
from prognos.sim.live import (
    CHAIN_DRIVE,
    ELEVATOR,
)

Progress = Callable[[str, int, int], None]
SIM_STATE = "simulation"  # where the world's seed and clock are kept for the simulator
REPAIR_HOURS = 6.0  # from a failure to the new part's first hour

# (customer id, name, [(site suffix, name, timezone, region, asset type, count)])
CUSTOMERS = (
    (
        "liftwerk",
        "Liftwerk Building Services",
        [
            ("shanghai-pudong", "Pudong office towers", "Asia/Shanghai", "cn-east", ELEVATOR, 6),
            ("shanghai-jingan", "Jing'an residences", "Asia/Shanghai", "cn-east", ELEVATOR, 4),
            ("berlin-mitte", "Berlin Mitte offices", "Europe/Berlin", "de-east", ELEVATOR, 5),
        ],
    ),
    (
        "alpenquell",
        "Alpenquell Bottling",
        [("rosenheim", "Rosenheim bottling plant", "Europe/Berlin", "de-south", CHAIN_DRIVE, 9)],
    ),
    (
        "autowerk",
        "Autowerk Vehicles",
        [
            ("wolfsburg", "Wolfsburg body shop", "Europe/Berlin", "de-north", CHAIN_DRIVE, 10),
            ("shenyang", "Shenyang assembly", "Asia/Shanghai", "cn-north", CHAIN_DRIVE, 5),
        ],
    ),
)

COSTS = cost_models(ELEVATOR, CHAIN_DRIVE, TURBOFAN)  # the one cost model (sim.costs)

# An engine change takes ``planned_job_hours`` (10) on site: the aero crews work 12-hour days so
# that the job and the hour of travel each way fit one visit (with 10 the planner could never
# schedule an engine, and every engine ran to failure).
CREWS = (
    Crew(
        id="crew-shanghai-1",
        skills={ELEVATOR, CHAIN_DRIVE},
        home_region="cn-east",
        working_weekdays={0, 1, 2, 3, 4, 5},
        cost_per_hour=60,
        callout_cost=150,
    ),
    Crew(
        id="crew-shanghai-2",
        skills={ELEVATOR},
        home_region="cn-east",
        cost_per_hour=60,
        callout_cost=150,
    ),
    Crew(id="crew-shenyang", skills={CHAIN_DRIVE}, home_region="cn-north", cost_per_hour=55),
    Crew(id="crew-berlin", skills={ELEVATOR}, home_region="de-east", cost_per_hour=95),
    Crew(
        id="crew-munich",
        skills={CHAIN_DRIVE},
        home_region="de-south",
        hours_per_day=10,
        cost_per_hour=95,
        callout_cost=250,
    ),
    Crew(
        id="crew-hanover",
        skills={CHAIN_DRIVE, ELEVATOR},
        home_region="de-north",
        cost_per_hour=95,
        callout_cost=250,
    ),
    Crew(
        id="crew-aero-europe",
        skills={TURBOFAN},
        home_region="europe",
        hours_per_day=12,
        working_weekdays={0, 1, 2, 3, 4, 5, 6},
        cost_per_hour=120,
        callout_cost=800,
    ),
    Crew(
        id="crew-aero-americas",
        skills={TURBOFAN},
        home_region="americas",
        hours_per_day=12,
        working_weekdays={0, 1, 2, 3, 4, 5, 6},
        cost_per_hour=110,
        callout_cost=800,
    ),
    Crew(
        id="crew-aero-asia",
        skills={TURBOFAN},
        home_region="asia",
        hours_per_day=12,
        working_weekdays={0, 1, 2, 3, 4, 5, 6},
        cost_per_hour=100,
        callout_cost=800,
    ),
)

TRAVEL = Travel(
    hours_between={
        "de-east|de-north": 3.0,
        "de-east|de-south": 6.0,
        "de-north|de-south": 6.0,
        "cn-east|cn-north": 5.0,
        "cn-east|asia": 3.0,
        "cn-north|asia": 4.0,
        "europe|de-east": 3.0,
        "europe|de-north": 3.0,
        "europe|de-south": 3.0,
    },
    same_region=1.0,
    default=16.0,  # another continent
)

# Engine modules on hand for the first month (30 days' lead time): the hundred C-MAPSS test
# engines include a score near their end, more than the two or three a depot once held.
STOCK = (
    PartStock(
        depot_id="D-kassel",
        part=COSTS[ELEVATOR].part,
        on_hand=12,
        lead_time_days=5,
        regions={"de-east", "de-north", "de-south"},
    ),
    PartStock(
        depot_id="D-kassel",
        part=COSTS[CHAIN_DRIVE].part,
        on_hand=20,
        lead_time_days=7,
        regions={"de-east", "de-north", "de-south"},
    ),
    PartStock(
        depot_id="D-shanghai",
        part=COSTS[ELEVATOR].part,
        on_hand=15,
        lead_time_days=4,
        regions={"cn-east", "cn-north"},
    ),
    PartStock(
        depot_id="D-shanghai",
        part=COSTS[CHAIN_DRIVE].part,
        on_hand=8,
        lead_time_days=10,
        regions={"cn-east", "cn-north"},
    ),
    PartStock(
        depot_id="D-toulouse",
        part=COSTS[TURBOFAN].part,
        on_hand=10,
        lead_time_days=30,
        regions={"europe"},
    ),
    PartStock(
        depot_id="D-miami",
        part=COSTS[TURBOFAN].part,
        on_hand=10,
        lead_time_days=30,
        regions={"americas"},
    ),
    PartStock(
        depot_id="D-singapore",
        part=COSTS[TURBOFAN].part,
        on_hand=8,
        lead_time_days=30,
        regions={"asia"},
    ),
)


@dataclass
class DemoWorld:
    """The world's description before anything is stored: deterministic for a seed and a date."""

    seed: int
    history_end: datetime
    customers: list[Customer]
    sites: list[Site]
    calendars: dict[str, CalendarSpec]
    assets: list[Asset]  # elevators and chains, installed at their first part's start
    workdays: dict[str, tuple[int, ...]] = field(default_factory=dict)


def demo_world(
    seed: int = 0, history_end: datetime | None = None, history_days: tuple[int, int] = (60, 420)
) -> DemoWorld:
    """Customers, sites, calendars and the elevator/chain fleet; ``history_days``: how long ago
    each asset's first part was fitted (the history starts there)."""
    end = (history_end or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    rng = np.random.default_rng([seed, 7])
    cal_start = end.date() - timedelta(days=400)
    customers, sites, specs, assets, workdays = [], [], {}, [], {}
    for cid, cname, site_rows in CUSTOMERS:
        customers.append(Customer(id=cid, name=cname))
        for suffix, sname, tz, region, type_id, count in site_rows:
            site = Site(
                id=f"{cid}-{suffix}", customer_id=cid, name=sname, timezone=tz, region=region
            )
            sites.append(site)
            specs[site.id] = _calendar(site, cal_start, rng)
            workdays[site.id] = specs[site.id].workdays
            prefix = "el" if type_id == ELEVATOR else "ch"
            for k in range(count):
                ago = float(rng.uniform(*history_days))
                start = (end - timedelta(days=ago)).replace(minute=0, second=0, microsecond=0)
                assets.append(
                    Asset(
                        id=f"{site.id}-{prefix}{k + 1:02d}",
                        customer_id=cid,
                        site_id=site.id,
                        type_id=type_id,
                        serial=f"{prefix.upper()}-{_serial(site.id, k)}",
                        model="DoorDrive 3" if type_id == ELEVATOR else "Conveyor 16B duplex",
                        installed_at=start,
                    )
                )
    return DemoWorld(seed, end, customers, sites, specs, assets, workdays)


def _serial(site_id: str, k: int) -> str:
    return f"{zlib.crc32(site_id.encode()) % 100000:05d}{k:02d}"


def flying_every_day(spec: CalendarSpec) -> CalendarSpec:
    """An airline's calendar: its engines fly a cycle every day (as the simulator flies them),
    with no annual shutdown; the planned stops are its hangar slots. The planner counts a
    cycle per operating day, so a five-day calendar would put an engine's end of life weeks
    after the simulated one."""
    return dataclasses.replace(spec, workdays=tuple(range(7)), shutdowns=[])


def _calendar(site: Site, start: date, rng: np.random.Generator) -> CalendarSpec:
    spec = make_spec(site.id, start, 800, rng)
    spec.timezone = site.timezone
    return spec
