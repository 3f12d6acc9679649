"""Rolling re-planning: a new plan from fresh forecasts, reconciled with the open work orders.

Dispatched and in-progress orders go to the planner as committed: they stay where they are
unless keeping a dispatched one is clearly worse (the planner releases it, see ``Plan.released_
orders``). Proposed and scheduled orders may move; the ones the new plan drops are cancelled.

    result = replan(open_orders, forecasts, assets, calendars, crews, stock, costs, now=now)
    result.orders      # every order after the change, new ones included
    result.created, result.moved, result.cancelled
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from prognos.domain.planning import Plan, PlannedJob, WorkOrder, WorkOrderStatus
from prognos.planning.optimizer import plan as make_plan

S = WorkOrderStatus
_OPEN = {S.proposed, S.scheduled, S.dispatched, S.in_progress}


@dataclass
class ReplanResult:
    plan: Plan
    orders: list[WorkOrder] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)


def _counter() -> Callable[[PlannedJob], str]:
    n = itertools.count(1)
    return lambda job: f"WO-{job.asset_id}-{job.day:%Y%m%d}-{next(n)}"


def reconcile(
    orders: Sequence[WorkOrder],
    new_plan: Plan,
    now: datetime,
    new_id: Callable[[PlannedJob], str] | None = None,
) -> ReplanResult:
    """Apply ``new_plan`` to ``orders`` through legal lifecycle moves only."""
    new_id = new_id or _counter()
    res = ReplanResult(new_plan)
    open_by_key = {o.key: o for o in orders if o.status in _OPEN}
    jobs = {j.key: j for j in new_plan.jobs}
    for o in orders:
        if o.status not in _OPEN:
            res.orders.append(o)
            continue
        job = jobs.get(o.key)
        if o.status is S.in_progress:
            res.orders.append(o)
        elif job is None:
            res.orders.append(o.transition(S.cancelled, now))
            res.cancelled.append(o.id)
        elif (job.day, job.crew_id) == (o.day, o.crew_id):
            res.orders.append(o)
        else:
            moved = o.transition(S.scheduled, now) if o.status is S.dispatched else o
            if moved.status is S.proposed:
                moved = moved.transition(S.scheduled, now)
            res.orders.append(
                moved.model_copy(
                    update={
                        "day": job.day,
                        "crew_id": job.crew_id,
                        "part": job.part,
                        "depot_id": job.depot_id,
                    }
                )
            )
            res.moved.append(o.id)
    for key, job in jobs.items():
        if key in open_by_key:
            continue
        wo = WorkOrder(
            id=new_id(job),
            asset_id=job.asset_id,
            component=job.component,
            site_id=job.site_id,
            day=job.day,
            crew_id=job.crew_id,
            part=job.part,
            depot_id=job.depot_id,
        )
        res.orders.append(wo.transition(S.scheduled, now))
        res.created.append(res.orders[-1].id)
    return res


def replan(orders: Sequence[WorkOrder], *args, now: datetime, **kwargs) -> ReplanResult:
    """Plan again with the open orders committed (arguments as :func:`optimizer.plan`)."""
    committed = [o for o in orders if o.status in _OPEN]
    new_plan = make_plan(*args, committed, now=now, **kwargs)
    return reconcile(orders, new_plan, now)
