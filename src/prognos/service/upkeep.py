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
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from prognos.domain.keys import MANUFACTURER
from prognos.service.platform import Platform

log = logging.getLogger(__name__)

MIN_NEW_READINGS = 1_000_000  # below this the interleaved tail costs less than a rewrite


class NightlyCompaction:
    """A thread that compacts the telemetry once a day in ``hour`` when it grew enough."""

    def __init__(
        self,
        platform: Platform,
        hour: int,
        *,
        min_new: int = MIN_NEW_READINGS,
        check_every_s: float = 60.0,
        clock: Callable[[], datetime] = datetime.now,
    ):
        self.platform = platform
        self.hour = hour
        self.min_new = min_new
        self.check_every_s = check_every_s
        self.clock = clock
        self.runs = 0
        self.last: dict[str, Any] | None = None
        self.last_error: str | None = None
        self._done_on: date | None = None
        self._baseline: int | None = None  # readings after the last compaction (or at start)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> NightlyCompaction:
        self._thread = threading.Thread(target=self._loop, name="prognos-compaction", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def status(self) -> dict[str, Any]:
        alive = self._thread is not None and self._thread.is_alive()
        return {
            "running": alive,
            "hour": self.hour,
            "runs": self.runs,
            "last": self.last,
            "last_error": self.last_error,
        }

    def check(self) -> bool:
        """Compact now if it is the hour, not yet done today, and enough readings came in."""
        now = self.clock()
        stored = self.platform.store.count_readings()
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
        out = self.platform.compact_telemetry(MANUFACTURER)
        self._baseline = out["readings"]
        self.runs += 1
        self.last = {
            **out,
            "at": now.isoformat(),
            "wall_seconds": round(time.perf_counter() - t0, 2),
        }
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
                self.last_error = None
            except Exception as e:  # the store is busy or down: try again at the next check
                self.last_error = f"{type(e).__name__}: {e}"
                log.exception("nightly compaction failed")
            self._stop.wait(self.check_every_s)
