"""The simulated world's crews: they do the jobs the plan scheduled, on their day.

A scheduled (or dispatched) work order is worked at ``START_HOUR`` local time of its day at its
site: dispatched, started, and completed ``planned_job_hours`` (the type's cost model) later
with the crew's finding (the part replaced, its measured wear: the share of its true life used,
which only the simulator knows). The simulator then fits the new part at that moment, so a
planned replacement prevents a failure only if it really came first: prevention is measured,
not assumed. An order whose day passed while the simulator was catching up is worked as soon
as it is seen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from prognos.domain import WorkOrder, WorkOrderStatus
from prognos.domain.keys import MANUFACTURER
from prognos.errors import PrognosError
from prognos.service.platform import Platform

log = logging.getLogger(__name__)
START_HOUR = 8  # local time a crew starts a job
COMMITTED = ("scheduled", "dispatched")


@dataclass(frozen=True)
class Job:
    order: WorkOrder
    start: datetime
    done: datetime


class SimulatedCrews:
    """Works the platform's committed orders as simulated time passes them."""

    def __init__(self, platform: Platform):
        self.platform = platform
        self.done = 0

    def due(self, until: datetime) -> list[Job]:
        """Committed orders whose work starts at or before ``until``, in time order."""
        p = self.platform
        sites = {s.id: s for s in p.registry.sites(MANUFACTURER)}
        costs = p.resources.cost_models(MANUFACTURER)
        assets = p.registry.snapshot().assets
        jobs = []
        for status in COMMITTED:
            for o in p.orders.list_orders(MANUFACTURER, status=status):
                site, a = sites.get(o.site_id), assets.get(o.asset_id)
                if site is None or a is None or a.retired:
                    continue
                local = datetime.combine(o.day, time(START_HOUR), ZoneInfo(site.timezone))
                start = max(local.astimezone(until.tzinfo), a.installed_at)
                if start > until:
                    continue
                cm = costs.get(a.id) or costs.get(a.type_id)
                hours = cm.planned_job_hours if cm is not None else 2.0
                jobs.append(Job(o, start, start + timedelta(hours=hours)))
        return sorted(jobs, key=lambda j: (j.start, j.order.id))

    def work(self, job: Job, wear: Callable[[str], float | None]) -> bool:
        """Do one job: the order goes through its lifecycle to done with the crew's finding;
        the asset's new life starts when the job is done. False when it could not be done
        (the order moved meanwhile)."""
        p, o = self.platform, job.order
        try:
            if o.status is WorkOrderStatus.scheduled:
                p.orders.transition(MANUFACTURER, o.id, WorkOrderStatus.dispatched.value)
            p.orders.transition(MANUFACTURER, o.id, WorkOrderStatus.in_progress.value)
            used = wear(o.asset_id)
            p.orders.complete(
                MANUFACTURER,
                o.id,
                condition="replaced as planned"
                + (f"; {used:.0%} of its life used" if used is not None else ""),
                measured_wear=None if used is None else round(used, 3),
                part_replaced=True,
                at=job.done,
            )
        except PrognosError as e:
            log.warning("simulated crew could not do %s: %s", o.id, e)
            return False
        self.done += 1
        return True
