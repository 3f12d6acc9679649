"""Continuous planning: the plan follows the fleet without anyone pressing a button.

Every ``interval`` seconds the worker takes a cheap snapshot of what the plan depends on
(``PlanningService.snapshot``) and compares it with the one the current plan was made from
(``plan_triggers.reasons``: forecasts that moved materially, work orders completed or
cancelled, calendars, crews, part stock, costs or travel changed, the installed base changed,
or the plan is a day old in data time). When the plan is stale it re-plans over a rolling
horizon from the data clock, keeping committed orders by the rules of ``planning.replan``.

Of several servers on one PostgreSQL exactly one plans (``leases``: the lease
``worker:planner``); the others stand by and take over when its session ends.

Its status counts re-plans and their latency: seconds from the last check that saw nothing to
re-plan to the new plan committed, an upper bound on how long a change waited for the plan.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

import numpy as np

from prognos.domain.keys import MANUFACTURER
from prognos.errors import PrognosError
from prognos.service.plan_triggers import ORDER_KIND, PlanInputs, reasons
from prognos.service.planning import PlanningService
from prognos.service.workers.base import LoopWorker
from prognos.store.ports import LocksPort

log = logging.getLogger(__name__)

KEEP_LATENCIES = 500


class PlannerWorker(LoopWorker):
    name = "planner"

    def __init__(
        self,
        planning: PlanningService,
        interval: float = 10.0,
        *,
        horizon_days: int = 56,
        time_limit_s: float = 10.0,
        trigger_probability: float = 0.05,
        every_hours: float = 24.0,
        leases: LocksPort | None = None,
    ):
        super().__init__(interval, leases=leases)
        self._planning = planning
        self.horizon_days = horizon_days
        self.time_limit_s = time_limit_s
        self.trigger_probability = trigger_probability
        self.every = timedelta(hours=every_hours)
        self._inputs: PlanInputs | None = None
        self._quiet_since: float | None = (
            None  # monotonic time of the last check with nothing to do
        )
        self.replans = 0
        self.latencies: list[float] = []
        self.last: dict[str, Any] | None = None
        self.skipped: str | None = None

    def tick(self) -> None:
        self.check()

    def check(self) -> dict[str, Any] | None:
        """Re-plan if the plan is stale; returns what the re-plan did (None: nothing to do)."""
        started = time.monotonic()
        now = self._planning.snapshot(MANUFACTURER, self.horizon_days, self._inputs)
        why = reasons(self._inputs, now, threshold=self.trigger_probability, every=self.every)
        if not why:
            self._quiet_since = started
            return None
        try:
            out = self._planning.plan(
                MANUFACTURER,
                horizon_days=self.horizon_days,
                time_limit_s=self.time_limit_s,
                now=now.clock,
            )
        except PrognosError as e:  # nothing to plan yet (no forecasts, no crews): wait for it
            self.skipped = e.message
            self._inputs = now
            self._quiet_since = started
            return None
        # the plan's own writes (orders created, moved, cancelled) are part of the inputs it
        # was made from; whatever else changed meanwhile still counts at the next check
        after = self._planning.snapshot(MANUFACTURER, self.horizon_days, now)
        now.documents[ORDER_KIND] = after.documents.get(ORDER_KIND, "")
        now.orders = {**after.orders, "done": now.orders.get("done", 0)}
        self._inputs = now
        done = time.monotonic()
        latency = done - (self._quiet_since if self._quiet_since is not None else started)
        self._quiet_since = done
        self.latencies = [*self.latencies[-KEEP_LATENCIES + 1 :], latency]
        self.replans += 1
        self.skipped = None
        self.last = {
            "reasons": why,
            "data_clock": now.clock.isoformat(),
            "jobs": len(out["plan"]["jobs"]),
            "created": len(out["created"]),
            "moved": len(out["moved"]),
            "cancelled": len(out["cancelled"]),
            "deferred": len(out["deferred"]),
            "status": out["plan"]["status"],
            "solve_seconds": out["plan"]["solve_seconds"],
            "latency_s": round(latency, 2),
        }
        log.info("planner: re-planned (%s): %s", "; ".join(why), self.last)
        return out

    def details(self) -> dict[str, Any]:
        lat = np.asarray(self.latencies, dtype=float)
        return {
            "replans": self.replans,
            "latency_s_p95": round(float(np.quantile(lat, 0.95)), 2) if len(lat) else None,
            "latency_s_max": round(float(lat.max()), 2) if len(lat) else None,
            "last": self.last,
            "waiting_for": self.skipped,
        }
