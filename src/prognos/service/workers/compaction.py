"""Nightly upkeep inside ``prognos serve``: compact the telemetry once a day at a quiet hour.

Readings append in arrival order, every asset's interleaved, and per-asset scans slow down as
that tail grows (``docs/bench/store.md``). On the embedded DuckDB store nobody should need a
cron job for it: the server compacts once a day at ``PROGNOS_COMPACT_HOUR`` (its local time),
and only when enough readings came in since it last did. Writes wait while it runs (MQTT
messages wait at the broker, unacknowledged); a PostgreSQL deployment schedules
``prognos store compact`` itself, since ``CLUSTER`` locks the table for readers too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from prognos.domain.keys import MANUFACTURER
from prognos.service.telemetry import TelemetryService
from prognos.service.workers.base import LoopWorker
from prognos.store.ports import LocksPort

log = logging.getLogger(__name__)

MIN_NEW_READINGS = 1_000_000  # below this the interleaved tail costs less than a rewrite


class CompactionWorker(LoopWorker):
    """Compacts the telemetry once a day in ``hour`` when it grew enough."""

    name = "compaction"

    def __init__(
        self,
        telemetry: TelemetryService,
        hour: int,
        *,
        min_new: int = MIN_NEW_READINGS,
        check_every_s: float = 60.0,
        clock: Callable[[], datetime] = datetime.now,
        leases: LocksPort | None = None,
    ):
        super().__init__(check_every_s, leases=leases)
        self._telemetry = telemetry
        self.hour = hour
        self.min_new = min_new
        self.clock = clock
        self.runs = 0
        self.last: dict[str, Any] | None = None
        self._done_on: date | None = None
        self._baseline: int | None = None  # readings after the last compaction (or at start)

    def details(self) -> dict[str, Any]:
        return {"hour": self.hour, "runs": self.runs, "last": self.last}

    def tick(self) -> None:
        self.check()

    def check(self) -> bool:
        """Compact now if it is the hour, not yet done today, and enough readings came in."""
        now = self.clock()
        stored = self._telemetry.count(MANUFACTURER)
        if self._baseline is None:
            self._baseline = stored
        if now.hour != self.hour or self._done_on == now.date():
            return False
        self._done_on = now.date()  # once a day, whether or not it is worth it
        if stored - self._baseline < self.min_new:
            log.info(
                "nightly compaction skipped: %d readings since the last, fewer than %d",
                stored - self._baseline,
                self.min_new,
            )
            return False
        t0 = time.perf_counter()
        out = self._telemetry.compact(MANUFACTURER)
        self._baseline = out["readings"]
        self.runs += 1
        self.last = {
            **out,
            "at": now.isoformat(),
            "wall_seconds": round(time.perf_counter() - t0, 2),
        }
        return True
