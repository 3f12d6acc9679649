"""Benchmark: the loop as the running platform lives it.

    prognos bench loop --json                 # the demo world, 90 simulated days
    prognos bench loop --days 28 --day-seconds 10 --json

The demo world (``build_demo_world``: elevators and drive chains wearing at random rates,
C-MAPSS test engines whose true lives only the simulator knows) is built on a fresh embedded
store with its history ending ``days`` before now; models are trained and the fleet is
forecast once, and no plan is made. Then ``demo.catchup.run_catch_up`` hosts what ``prognos
serve`` hosts (refresher, continuous planner, alarm round, upkeep) with the simulator and its
crews, simulated time running one day per ``day_seconds`` of wall time. Failures and
prevention are measured in the simulation: a planned job prevents a failure only if the crew
came before the part's true end of life.

What it prints:

* ``failures``: parts whose true end of life fell inside the run; ``failures_preceded_by_job``
  of them were replaced by a planned job before it (``prevented_share`` = their share);
  ``unplanned_stoppages``: the others, which failed;
* ``false_alarms``: alarms raised during the run on an asset with no end of life in the
  following ``H`` = ``LEAD_DAYS`` (14) days (a prevented failure counts as one: the part would
  have failed); per 100 asset-days of the run; ``true_alarm_lead_days_median``: the median lead
  of the others; ``false_alarms_by_cause``;
* ``open_alarms_end``, ``alarms_open_on_replaced_parts`` (open alarms first seen before the
  asset's current part was fitted);
* ``replans`` and ``replan_latency_s_p95`` (the planner worker's status);
* ``mean_wasted_life_days``: the life left in parts replaced by planned jobs;
* ``offline_prevented_share``: the same share for the offline benchmark's policy on this
  world (``bench._loop_offline``): ``bench plan``'s rolling planner replayed over the same
  days, assets, calendars, crews, depots and costs, given the simulator's truth blurred by a
  lognormal (as ``bench plan --scale``) instead of the platform's forecasts, each part's end of
  life and its successor's the simulator's own; with ``offline_failures``,
  ``offline_failures_preceded_by_job``, ``offline_replans``, ``offline_cpu_s``. Null, with the
  reason in ``offline_note``, when no part reached its end of life in the run. The gap to
  ``prevented_share`` is what the platform's forecasts, timing and plumbing cost.
"""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prognos.bench._loop_why import breakdown

LEAD_DAYS = 14.0  # H: an alarm with no end of life within this many days is false


def _alarms(platform) -> list:
    from prognos.domain.keys import MANUFACTURER
    from prognos.service.alarm_desk import AlarmQuery

    out, page = [], 1
    while True:
        got = platform.alarms.page(MANUFACTURER, AlarmQuery(state="all", page=page, size=500))
        out += got.items
        if page >= got.pages:
            return out
        page += 1


def score_run(platform, run: dict[str, Any]) -> dict[str, Any]:
    """The loop's figures from a ``run_catch_up`` result and the platform's store."""
    from prognos.bench._loop_offline import offline_prevention  # the planner: loaded when used

    start, end = run["start"], run["end"]
    lives = run["lives"]
    inside = [lf for lf in lives if start < lf.end_of_life <= end]
    prevented = [lf for lf in inside if lf.ended_at is not None and not lf.failed]
    failed = [lf for lf in lives if lf.failed]
    planned = [lf for lf in lives if lf.ended_at is not None and not lf.failed]
    eols: dict[str, list[datetime]] = {}
    for lf in lives:
        eols.setdefault(lf.asset_id, []).append(lf.end_of_life)
    simulated = {lf.asset_id for lf in lives}
    assets = platform.registry.snapshot().assets
    alarms = [a for a in _alarms(platform) if a.asset_id in simulated]
    raised = [a for a in alarms if a.first_seen > start]
    h = timedelta(days=LEAD_DAYS)
    false, leads, by_cause = 0, [], {}
    for a in raised:
        ahead = [e for e in eols.get(a.asset_id, []) if a.first_seen <= e <= a.first_seen + h]
        if ahead:
            leads.append((min(ahead) - a.first_seen).total_seconds() / 86400.0)
        else:
            false += 1
            by_cause[a.rule] = by_cause.get(a.rule, 0) + 1
    still = [a for a in alarms if a.is_open]
    on_replaced = [
        a for a in still if a.asset_id in assets and a.first_seen < assets[a.asset_id].installed_at
    ]
    days = (end - start).total_seconds() / 86400.0
    planner = run.get("planner") or {}
    return {
        "days": round(days, 1),
        "assets": len(simulated),
        "failures": len(inside),
        "failures_preceded_by_job": len(prevented),
        "prevented_share": round(len(prevented) / len(inside), 3) if inside else None,
        "unplanned_stoppages": len(failed),
        "false_alarms": false,
        "false_alarms_per_100_asset_days": round(
            100.0 * false / max(len(simulated) * days, 1e-9), 3
        ),
        "false_alarms_by_cause": by_cause,
        "true_alarms": len(leads),
        "true_alarm_lead_days_median": round(statistics.median(leads), 2) if leads else None,
        "open_alarms_end": len(still),
        "alarms_open_on_replaced_parts": len(on_replaced),
        "replans": planner.get("replans"),
        "replan_latency_s_p95": planner.get("latency_s_p95"),
        "planned_replacements": len(planned),
        "mean_wasted_life_days": round(
            statistics.mean(
                (lf.end_of_life - lf.ended_at).total_seconds() / 86400.0 for lf in planned
            ),
            2,
        )
        if planned
        else None,
        **offline_prevention(platform, run),
        "lead_days_h": LEAD_DAYS,
        "wall_s": run["wall_s"],
        "simulator": {
            k: run["simulator"].get(k)
            for k in ("readings", "failures", "jobs_done", "errors", "held_ticks")
        },
    }


LEAD_HOURS = 24.0  # simulated time may run at most this far ahead of the refresher and planner


def run_loop(
    days: float = 90.0,
    day_seconds: float = 20.0,
    seed: int = 0,
    max_units: int | None = None,
    folder: Path | None = None,
    progress=None,
    lead_hours: float | None = LEAD_HOURS,
    timeout_s: float = 4 * 3600.0,
) -> dict[str, Any]:
    """Build the world, train, forecast, run the loop for ``days``; the figures.

    Simulated time runs a day per ``day_seconds`` but at most ``lead_hours`` ahead of the
    refresher's and the planner's latest rounds (``demo.catchup.Pacer``): where the machine is
    too slow for the pace the run takes longer, and the JSON says how often it was held."""
    from prognos.config import Settings
    from prognos.demo.catchup import run_catch_up
    from prognos.demo.history import build_demo_world
    from prognos.domain.keys import MANUFACTURER
    from prognos.errors import ModelError
    from prognos.service.platform import open_platform

    with tempfile.TemporaryDirectory() as tmp:
        where = Path(folder or tmp)
        settings = Settings(
            db=str(where / "loop.duckdb"),
            artifacts_dir=where / "artifacts",
            plan_interval=2.0,
            plan_time_limit=5.0,
            upkeep_interval=0,
            compact_hour=-1,
        )
        now = datetime.now(UTC).replace(microsecond=0)
        t0 = time.perf_counter()
        p = open_platform(settings)
        try:
            build_demo_world(p, seed=seed, now=now, catch_up_days=days, max_units=max_units)
            for t in p.registry.asset_types(MANUFACTURER):
                p.training.train_health(MANUFACTURER, t.id)
                if not t.failure_threshold:
                    with contextlib.suppress(ModelError):
                        p.training.train(MANUFACTURER, t.id)
            p.scoring.score_fleet(MANUFACTURER)
            setup_s = time.perf_counter() - t0
            run = run_catch_up(
                p,
                now,
                speed=86400.0 / day_seconds,
                progress=progress,
                lead_hours=lead_hours,
                timeout_s=timeout_s,
            )
            out = score_run(p, run)
            out["setup_s"] = round(setup_s, 1)
            out["lead_hours"] = lead_hours
            out["breakdown"] = breakdown(p, run)
            return out
        finally:
            p.close()
