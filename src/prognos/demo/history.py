"""The demo world written into a platform: registry, calendars, resources and months of history.

    summary = build_demo_world(platform, seed=0)      # ~40 s with the full FD001 fleet
    fleet = simulator.live_fleet(platform)           # continues where the history ends

History ends ``catch_up_days`` before now: readings may not lie in the future, so the simulator
replays that stretch at its time-acceleration factor and then runs at the speed of the clock. A
part that wore out in that past left a labelled failure event and was replaced (a new life),
which is what training learns from.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from prognos.demo.turbofans import AIRLINES, HOLD_OUT_EVERY, TURBOFAN, load_cmapss_fleet
from prognos.demo.world import (
    COSTS,
    CREWS,
    REPAIR_HOURS,
    SIM_STATE,
    STOCK,
    TRAVEL,
    DemoWorld,
    Progress,
    _calendar,
    demo_world,
    flying_every_day,
)
from prognos.domain.keys import MANUFACTURER
from prognos.service.platform import Platform
from prognos.sim.calendars import to_ics
from prognos.sim.live import ASSET_TYPES, Failure, LiveAsset, LiveFleet, to_batch


def build_demo_world(
    platform: Platform,
    seed: int = 0,
    *,
    now: datetime | None = None,
    catch_up_days: float = 28.0,
    history_step_minutes: float = 120.0,
    turbofans: bool = True,
    subset: str = "FD001",
    max_units: int | None = None,
    data_dir=None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Register the demo world in ``platform`` and write its history; return counts.

    With ``turbofans`` the C-MAPSS ``subset`` fleet (airlines) is loaded too, its histories
    ending where the others' do. ``catch_up_days`` before ``now`` is where history ends and the
    live simulator takes over.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    end = now - timedelta(days=catch_up_days)
    world = demo_world(seed, end)
    totals: dict[str, Any] = {"readings": 0, "rejected": 0, "failures": 0}
    if turbofans:
        tf = load_cmapss_fleet(
            platform,
            subset,
            data_dir,
            now=end,
            max_units=max_units,
            hold_out_every=HOLD_OUT_EVERY,
            progress=lambda split, d, n: progress and progress(f"turbofans ({split})", d, n),
        )
        totals["readings"] += tf["readings"]
        totals["rejected"] += tf["rejected"]
    for t in ASSET_TYPES.values():
        platform.registry.add_asset_type(MANUFACTURER, t)
    for c in world.customers:
        platform.registry.add_customer(MANUFACTURER, c)
    for s in world.sites:
        platform.registry.add_site(MANUFACTURER, s)
    _planning(platform, world, turbofans)
    installed, counts = run_history(platform, world, history_step_minutes, progress)
    platform.registry.add_assets(
        MANUFACTURER,
        [a.model_copy(update={"installed_at": installed[a.id]}) for a in world.assets],
    )
    totals["readings"] += counts["readings"]
    totals["rejected"] += counts["rejected"]
    totals["failures"] = counts["failures"]
    platform.state.put(
        MANUFACTURER,
        SIM_STATE,
        {
            "seed": seed,
            "history_end": end.isoformat(),
            "sample_minutes": 10.0,
            "workdays": {k: list(v) for k, v in world.workdays.items()},
            "turbofan_subset": subset if turbofans else None,
        },
    )
    totals.update(
        {
            "customers": len(platform.registry.customers(MANUFACTURER)),
            "sites": len(platform.registry.sites(MANUFACTURER)),
            "assets": platform.registry.assets(MANUFACTURER, limit=1)[1],
            "history_end": end.isoformat(),
        }
    )
    return totals


def _planning(platform: Platform, world: DemoWorld, turbofans: bool) -> None:
    """Calendars (as iCalendar, the way customers send them), crews, depots, costs, travel."""
    p = MANUFACTURER
    rng = np.random.default_rng([world.seed, 11])
    cal_start = world.history_end.date() - timedelta(days=400)
    sites = list(world.sites)
    if turbofans:
        sites += [platform.registry.site(p, f"{cid}-hangar") for cid, *_ in AIRLINES]
    for site in sites:
        spec = world.calendars.get(site.id) or _calendar(site, cal_start, rng)
        if site.id not in world.calendars:  # an airline's base: its engines fly every day
            spec = flying_every_day(spec)
        platform.calendars.import_ics(p, site.id, to_ics(spec, cal_start), days=400)
    for crew in CREWS:
        if turbofans or TURBOFAN not in crew.skills:
            platform.resources.put_crew(p, crew)
    for s in STOCK:
        platform.resources.put_stock(p, s)
    for type_id, cm in COSTS.items():
        if turbofans or type_id != TURBOFAN:
            platform.resources.put_cost_model(p, type_id, cm)
    platform.resources.put_travel(p, TRAVEL)


def run_history(
    platform: Platform | None,
    world: DemoWorld,
    step_minutes: float,
    progress: Progress | None = None,
) -> tuple[dict[str, datetime], dict[str, int]]:
    """Simulate each asset from its first part to the end of history, replacing parts that fail.

    Returns the start of each asset's current life and counts. Failures become labelled events.
    Without a platform nothing is stored (the lives alone, for ``simulate.world_fleet``).
    """
    sites = {s.id: s for s in world.sites}
    current = {a.id: a.installed_at for a in world.assets}
    lives = [
        LiveAsset(
            a.id,
            a.customer_id,
            a.type_id,
            a.installed_at,
            timezone=sites[a.site_id].timezone,
            workdays=world.workdays[a.site_id],
        )
        for a in world.assets
    ]
    counts = {"readings": 0, "rejected": 0, "failures": 0}
    # registered first (at the first part's start) so readings validate; moved on at the end
    if platform is not None:
        platform.registry.add_assets(MANUFACTURER, world.assets)
    step = 0
    while lives:
        fleet = LiveFleet(lives, world.seed, sample_minutes=step_minutes)
        horizon = world.history_end
        chunk = timedelta(days=30)
        t = min(a.installed_at for a in lives)
        while t < horizon:
            t = min(t + chunk, horizon)
            samples = fleet.advance_wide(t)
            if platform is not None:
                res = platform.telemetry.ingest_batch(
                    MANUFACTURER, to_batch(samples), source="sim:history"
                )
                counts["readings"] += res.accepted
                counts["rejected"] += len(res.rejected)
        step += 1
        if progress:
            progress(f"elevator and chain histories (round {step})", step, step)
        failures = fleet.pop_failures()
        by_id = {a.asset_id: a for a in lives}
        lives = []
        for f in failures:
            if platform is not None:
                record_failure(platform, f)
            counts["failures"] += 1
            fresh = f.at + timedelta(hours=REPAIR_HOURS)
            if fresh < world.history_end:
                current[f.asset_id] = fresh.replace(microsecond=0)
                lives.append(
                    LiveAsset(
                        f.asset_id,
                        f.customer_id,
                        f.type_id,
                        current[f.asset_id],
                        last_ts=f.at,
                        timezone=by_id[f.asset_id].timezone,
                        workdays=by_id[f.asset_id].workdays,
                    )
                )
    return current, counts


def record_failure(platform: Platform, f: Failure) -> None:
    """A part that wore out: the labelled event training learns from (the work-order finding's shape)."""
    event_id = f"{f.asset_id}-failure-{f.at:%Y%m%dT%H%M}"
    platform.orders.record_event(
        MANUFACTURER,
        f.asset_id,
        {
            "id": event_id,
            "asset_id": f.asset_id,
            "kind": "failure",
            "failure_found": True,
            "at": f.at.isoformat(),
            "life_start": f.life_start.isoformat(),
            "age": float(f.age),
            "resets_age": True,
            "source": "simulated wear-out",
        },
    )
