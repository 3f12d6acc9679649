"""Assets at risk and what is done about them: a planned job, or why there is none.

A plant manager's question after each plan: "which assets are likely to fail soon, and is each
of them in hand?" ``at_risk`` answers it for every live asset whose probability of failing
within ``days`` calendar days (its latest forecast) is at least ``threshold``: the open work
order that covers it (a planned replacement, or the repair of a failure), or the reason the plan
cannot cover it: no calendar for its site, no cost model for its type, no crew with the skill,
no part in stock for its region, a part fitted less than ``NEW_PART_DAYS`` ago (its
forecast rests on a few days of readings: a wear trend of a new part extrapolates far).
``"uncovered"`` is the planner's own choice (a job would cost
more than the risk it removes within the horizon): it names the cases worth a look.
"""

from __future__ import annotations

from typing import Any

from prognos.domain import FailureForecast

NEW_PART_DAYS = 7.0  # a forecast of a part younger than this rests on too few readings
OPEN = ("proposed", "scheduled", "dispatched", "in_progress")
_UNIT_S = {"hours": 3600.0, "days": 86400.0, "cycles": 86400.0}


def prob_within_days(f: FailureForecast, days: float) -> float:
    """P(failure within ``days`` calendar days) of a forecast in hours, days or cycles (a
    turbofan flies about a cycle a day)."""
    return float(f.prob_fail_before(days * 86400.0 / _UNIT_S.get(f.time_unit, 86400.0)))


def at_risk(
    inputs: dict[str, Any],
    assets: dict[str, Any],
    forecasts: dict[str, FailureForecast],
    orders: list,
    *,
    days: float = 14.0,
    threshold: float = 0.5,
) -> list[dict[str, Any]]:
    """Each live asset with P(failure within ``days``) >= ``threshold``: its covering order or
    why there is none (``inputs``: ``PlanningService.inputs``)."""
    planned = {a.asset_id for a in inputs["assets"]}
    calendars = set(inputs["calendars"])
    costs = inputs["costs"]
    skills = set().union(*(c.skills for c in inputs["crews"])) if inputs["crews"] else set()
    stocked = {s.part for s in inputs["stock"] if s.on_hand > 0 or s.lead_time_days <= days}
    covering: dict[str, Any] = {}
    for o in orders:
        if o.status.value in OPEN and o.asset_id not in covering:
            covering[o.asset_id] = o
    out = []
    for aid, f in sorted(forecasts.items()):
        a = assets.get(aid)
        if a is None or a.retired:
            continue
        p = prob_within_days(f, days)
        if p < threshold:
            continue
        row: dict[str, Any] = {"asset_id": aid, "p_fail": round(p, 3), "type": a.type_id}
        o = covering.get(aid)
        cm = costs.get(aid) or costs.get(a.type_id)
        if o is not None:
            row.update(order=o.id, day=o.day.isoformat(), status=o.status.value)
        elif aid not in planned and a.site_id not in calendars:
            row["why_not"] = f"no calendar for site {a.site_id}"
        elif cm is None:
            row["why_not"] = f"no cost model for {a.type_id}"
        elif a.type_id not in skills:
            row["why_not"] = f"no crew can service {a.type_id}"
        elif cm.part not in stocked:
            row["why_not"] = f"no {cm.part} in stock or on its way within {days:g} days"
        elif (young := (f.as_of - a.installed_at).total_seconds() / 86400.0) < NEW_PART_DAYS:
            row["why_not"] = (
                f"a new part (fitted {a.installed_at:%Y-%m-%d}): its forecast rests on "
                f"{young:.1f} days of readings"
            )
        else:
            row["why_not"] = "uncovered"
        out.append(row)
    return out
