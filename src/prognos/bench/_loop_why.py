"""Why a failure was not prevented, and why a part was replaced young: the loop's breakdown.

``bench loop`` counts failures and wasted life; this module joins the simulator's ``LifeLog``
(the true end of every life) with what the platform stored (each part's forecasts, its work
orders) to say, failure by failure, which link of the loop broke:

* ``no_forecast``: the part had no forecast of its own a week before it failed;
* ``job_after_failure``: a job was planned, but for a day after the true end of life (the
  repair cancelled it);
* ``job_cancelled``: a job was planned and later cancelled by the planner;
* ``forecast_late``: a week before the end the forecast gave the failure less than even odds
  within that week (its P50 lay beyond the true end);
* ``at_risk_no_job``: the forecast said it would likely fail and no job was planned.

Forecast times are read in calendar days (the simulated clock: an hour is an hour, a day a day,
a C-MAPSS cycle one day) beside the truth, at ``LEADS`` days before each failure. Planned
replacements that threw away more than ``YOUNG_DAYS`` of life are listed with the forecast the
planner had when it created the job.
"""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

LEADS = (14.0, 7.0)  # days before a failure at which the forecast is read
YOUNG_DAYS = 30.0  # a planned replacement wasting more life than this was early
_DAY_PER_UNIT = {"hours": 1 / 24, "days": 1.0, "cycles": 1.0}


def _at(history: list, t: datetime):
    """The newest forecast made at or before ``t`` (``history`` sorted by ``as_of``)."""
    best = None
    for f in history:
        if f.as_of <= t:
            best = f
        else:
            break
    return best


def _read(f, truth_days: float) -> dict[str, Any]:
    k = _DAY_PER_UNIT.get(f.time_unit, 1.0)
    return {
        "p10_days": round(f.quantile(0.1) * k, 1),
        "p50_days": round(f.quantile(0.5) * k, 1),
        "true_days": round(truth_days, 1),
        "p_fail_by_truth": round(float(f.prob_fail_before(truth_days / k)), 3),
    }


def _forecasts(platform, asset_id: str, start: datetime, end: datetime) -> list:
    from prognos.domain.keys import MANUFACTURER

    got = platform.forecasts.history(MANUFACTURER, asset_id, limit=100_000)
    return sorted((f for f in got if start <= f.as_of < end), key=lambda f: f.as_of)


def _created(o) -> datetime | None:
    return o.history[0][1] if o.history else None


def _cancelled(o) -> datetime | None:
    return next((t for s, t in o.history if s.value == "cancelled"), None)


def failure_reason(life, history: list, orders: list) -> dict[str, Any]:
    """One failed life: the reason it was not prevented and the forecasts a week or two out."""
    row: dict[str, Any] = {"asset": life.asset_id, "type": life.type_id}
    for lead in LEADS:
        f = _at(history, life.end_of_life - timedelta(days=lead))
        row[f"at_{lead:.0f}d"] = _read(f, lead) if f is not None else None
    mine = [
        o
        for o in orders
        if not o.id.endswith("-repair") and (_created(o) or life.start) >= life.start
        and (_created(o) or life.end_of_life) < life.end_of_life
    ]  # fmt: skip
    late = [o for o in mine if _cancelled(o) == life.ended_at]
    early_cancel = [o for o in mine if (_cancelled(o) or life.ended_at) < life.ended_at]
    week = row["at_7d"]
    if late:
        row["reason"] = "job_after_failure"
        row["job_days_late"] = (late[0].day - life.end_of_life.date()).days
        row["job_planned_days_before"] = round(
            (life.end_of_life - _created(late[0])).total_seconds() / 86400.0, 1
        )
    elif early_cancel:
        row["reason"] = "job_cancelled"
    elif week is None:
        row["reason"] = "no_forecast"
    elif week["p_fail_by_truth"] < 0.5:
        row["reason"] = "forecast_late"
    else:
        row["reason"] = "at_risk_no_job"
    return row


def young_replacement(life, history: list, orders: list) -> dict[str, Any] | None:
    """A planned replacement that wasted much life: the forecast its job was planned on."""
    wasted = (life.end_of_life - life.ended_at).total_seconds() / 86400.0
    if wasted <= YOUNG_DAYS:
        return None
    done = [o for o in orders if o.status.value == "done" and not o.id.endswith("-repair")]
    if not done:
        return {
            "asset": life.asset_id,
            "type": life.type_id,
            "wasted_days": round(wasted, 1),
            "no_order": [(o.id, o.status.value) for o in orders],
        }
    job = min(done, key=lambda o: abs((o.history[-1][1] - life.ended_at).total_seconds()))
    made = _created(job) or life.ended_at
    f = _at(history, made)
    truth = (life.end_of_life - made).total_seconds() / 86400.0
    row = {"asset": life.asset_id, "type": life.type_id, "wasted_days": round(wasted, 1)}
    row["forecast_at_planning"] = _read(f, truth) if f is not None else None
    return row


def breakdown(platform, run: dict[str, Any]) -> dict[str, Any]:
    """Failures by type and reason, and early planned replacements, for ``bench loop``."""
    from prognos.domain.keys import MANUFACTURER

    start, end = run["start"], run["end"]
    lives = run["lives"]
    failed = [lf for lf in lives if lf.failed and start < lf.end_of_life <= end]
    planned = [lf for lf in lives if lf.ended_at is not None and not lf.failed]
    orders: dict[str, list] = {}
    for o in platform.orders.list_orders(MANUFACTURER):
        orders.setdefault(o.asset_id, []).append(o)
    rows, young = [], []
    for lf in failed:
        hist = _forecasts(platform, lf.asset_id, lf.start, lf.end_of_life)
        rows.append(failure_reason(lf, hist, orders.get(lf.asset_id, [])))
    for lf in planned:
        hist = _forecasts(platform, lf.asset_id, lf.start, lf.ended_at)
        y = young_replacement(lf, hist, orders.get(lf.asset_id, []))
        if y is not None:
            young.append(y)
    inside = [lf for lf in lives if start < lf.end_of_life <= end]
    by_type: dict[str, dict[str, int]] = {}
    for lf in inside:
        t = by_type.setdefault(lf.type_id, {"failures": 0, "prevented": 0})
        t["failures"] += 1
        t["prevented"] += int(not lf.failed)
    return {
        "failures_by_type": by_type,
        "unprevented_by_reason": dict(Counter(r["reason"] for r in rows)),
        "unprevented": rows,
        "planned_by_type": dict(Counter(lf.type_id for lf in planned)),
        "young_replacements": len(young),
        "young_wasted_days_median": round(statistics.median(y["wasted_days"] for y in young), 1)
        if young
        else None,
        "young": young,
    }
