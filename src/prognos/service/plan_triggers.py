"""When the plan is stale: what changed since it was made, and whether that matters.

The planner worker (``workers/planner.py``) compares two ``PlanInputs`` snapshots, the one the
current plan was made from and the one of now, and re-plans when any of these holds:

* **forecasts moved materially**: for some asset the probability of failing within one of
  ``CHECKPOINT_DAYS`` operating days (and within the planning horizon) changed by at least
  ``threshold`` (``PROGNOS_PLAN_TRIGGER_PROBABILITY``, 0.05), or an asset gained or lost its
  forecast. Daily refreshes that only restate the belief do not re-plan;
* **a work order completed or was cancelled** (by a crew, a person, a repair), or one was
  added or edited by someone other than the planner;
* **a calendar, crew, part stock, cost model or the travel times changed**;
* **an asset was registered, retired or put back into service**;
* **the plan is a day old** in data time (``PROGNOS_PLAN_EVERY_HOURS``, 24): the horizon rolls
  on even when nothing else moves.

Comparisons are cheap: a stamp per document kind (count and newest write, by status), the
forecasts' stamp (and only when it moved, their probabilities), the registry's stamp.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from prognos.domain import FailureForecast

CHECKPOINT_DAYS = (7.0, 14.0, 28.0)  # operating days: the near future a job could be moved into
RESOURCE_KINDS = ("calendar", "crew", "part_stock", "cost_model", "travel")
ORDER_KIND = "workorder"


@dataclass
class PlanInputs:
    """What a plan depends on, as cheap stamps and per-asset failure probabilities."""

    clock: datetime  # the data clock
    documents: dict[str, str] = field(default_factory=dict)
    orders: dict[str, int] = field(default_factory=dict)  # work orders by status
    registry: str = ""
    forecasts_stamp: str = ""
    risk: dict[str, tuple[float, ...]] = field(default_factory=dict)


def risk_vector(f: FailureForecast, horizon_days: float) -> tuple[float, ...]:
    """P(failure within each checkpoint, and within the horizon), in operating days."""
    return tuple(
        round(float(f.prob_fail_before(d)), 4) for d in (*CHECKPOINT_DAYS, float(horizon_days))
    )


def reasons(
    before: PlanInputs | None,
    now: PlanInputs,
    *,
    threshold: float = 0.05,
    every: timedelta = timedelta(hours=24),
) -> list[str]:
    """Why the plan made from ``before`` is stale at ``now`` (empty: it is not)."""
    if before is None:
        return ["no plan yet"]
    out = []
    ended = [s for s in ("done", "cancelled") if now.orders.get(s, 0) != before.orders.get(s, 0)]
    if ended:
        out.append(f"work orders {' and '.join(ended)}")
    elif now.documents.get(ORDER_KIND) != before.documents.get(ORDER_KIND):
        out.append("work orders changed")
    changed = [k for k in RESOURCE_KINDS if now.documents.get(k) != before.documents.get(k)]
    if changed:
        out.append(f"{', '.join(changed)} changed")
    if now.registry != before.registry:
        out.append("installed base changed")
    if now.forecasts_stamp != before.forecasts_stamp:
        moved = _moved(before.risk, now.risk, threshold)
        if moved:
            out.append(f"forecasts of {moved} assets moved")
    if now.clock - before.clock >= every:
        out.append(f"plan is {(now.clock - before.clock).total_seconds() / 3600:.0f} h old")
    return out


def _moved(
    before: dict[str, tuple[float, ...]], now: dict[str, tuple[float, ...]], threshold: float
) -> int:
    n = len(set(before) ^ set(now))
    for k in set(before) & set(now):
        if max(abs(a - b) for a, b in zip(before[k], now[k], strict=True)) >= threshold:
            n += 1
    return n
