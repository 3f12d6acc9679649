"""Telemetry that grows for years: hourly rollups, retention, partitions ahead.

Every ``interval`` seconds, in one process of several (a lease): PostgreSQL months are created
ahead of the readings (so none land in the default partition); every complete hour that got
readings is rolled up (min, max, sum, count per channel: long-range charts read these); raw
readings older than their type's retention are dropped, whole months at once where every type's
retention allows it, else deleted; rollups older than theirs too. Retention waits until the
hours it would drop are rolled up, so a chart over the whole range still answers.

    PROGNOS_RETENTION_DAYS=365 PROGNOS_RETENTION_DAYS_BY_TYPE='{"pump": 90}' prognos serve
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from prognos.domain.keys import MANUFACTURER
from prognos.service.registry import RegistryService
from prognos.service.workers.base import LoopWorker
from prognos.store.ports import ActivityPort, LocksPort

log = logging.getLogger(__name__)

KEEP_MARKS = timedelta(days=1)  # settled activity marks are forgotten after this


class UpkeepWorker(LoopWorker):
    name = "telemetry_upkeep"

    def __init__(
        self,
        activity: ActivityPort,
        registry: RegistryService,
        *,
        retention_days: int = 0,
        retention_days_by_type: dict[str, int] | None = None,
        rollup_retention_days: int = 0,
        interval: float = 300.0,
        leases: LocksPort | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        super().__init__(interval, leases=leases)
        self._activity = activity
        self._registry = registry
        self.retention_days = retention_days
        self.by_type = dict(retention_days_by_type or {})
        self.rollup_retention_days = rollup_retention_days
        self.clock = clock
        self.runs = 0
        self.last: dict[str, Any] | None = None

    def details(self) -> dict[str, Any]:
        return {"runs": self.runs, "last": self.last}

    def tick(self) -> None:
        self.run_once()

    def retention_of(self) -> dict[str, int]:
        """Days of raw readings kept per asset type (0: for ever)."""
        types = [t.id for t in self._registry.asset_types(MANUFACTURER)]
        return {t: self.by_type.get(t, self.retention_days) for t in types}

    def run_once(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        now = self.clock()
        out: dict[str, Any] = {"partitions_created": self._activity.ensure_partitions(2)}
        keep = self.retention_of()
        shortest = min((d for d in keep.values() if d), default=0)
        hour = now.replace(minute=0, second=0, microsecond=0)
        out["hours_rolled"] = self._activity.roll_up(hour)
        out["partitions_dropped"], out["readings_deleted"] = [], 0
        if shortest:
            out.update(self._expire(now, keep))
        if self.rollup_retention_days:
            cutoff = now - timedelta(days=self.rollup_retention_days)
            out["rollups_deleted"] = self._activity.expire_rollups(cutoff)
        self._activity.prune_activity(now - KEEP_MARKS)
        out["at"] = now.isoformat()
        out["seconds"] = round(time.perf_counter() - t0, 3)
        self.runs += 1
        self.last = out
        if out["partitions_dropped"] or out["readings_deleted"]:
            log.info(
                "telemetry retention: dropped %s, deleted %d readings",
                out["partitions_dropped"] or "no partition",
                out["readings_deleted"],
            )
        return out

    def _expire(self, now: datetime, keep: dict[str, int]) -> dict[str, Any]:
        groups: dict[int, list[str]] = {}
        for t, d in keep.items():
            if d:
                groups.setdefault(d, []).append(t)
        oldest_cut = now - timedelta(days=min(groups))
        if self._activity.unrolled_before(oldest_cut):
            log.info("telemetry retention waits: hours before %s are not rolled up yet", oldest_cut)
            return {}
        dropped: list[str] = []
        if all(keep.values()) and self.retention_days:  # every type expires: whole months
            dropped = self._activity.drop_partitions(now - timedelta(days=max(keep.values())))
        deleted = 0
        for days, types in sorted(groups.items()):
            deleted += self._activity.expire_readings(now - timedelta(days=days), types)
        return {"partitions_dropped": dropped, "readings_deleted": deleted}
