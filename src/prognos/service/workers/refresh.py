"""Keep forecasts fresh: new readings for an asset give it a new stored forecast within seconds.

Every ``interval`` seconds the worker forecasts the assets that got readings since its last
round (batching bursts: a stream of readings costs one forecast per asset per interval, not one
per reading), a chunk of assets at a time by the fleet path (``ScoringService.assess``: one read
and one call of each model per type and chunk, not one per asset). Which ones, it asks the
store (``activity``): every write of readings marks its assets there, whichever process wrote
them (``prognos serve``, standalone ``prognos ingest mqtt`` workers on other hosts). Without a
store to ask, a listener on this process's committed batches marks them. Of several servers one
refreshes (``leases``), the others stand by. One asset's failure is logged and skipped; a store
that went away fails the round, the assets taken are kept for the next, and the supervisor tries
again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from prognos.domain import FailureForecast, HealthScore, ReadingBatch
from prognos.service.forecasts import ForecastService
from prognos.service.registry import RegistryService
from prognos.service.scoring import ScoringService
from prognos.service.telemetry import TelemetryService
from prognos.service.workers.base import LoopWorker
from prognos.store.ports import ActivityPort, LocksPort

log = logging.getLogger(__name__)

CHUNK = 100  # assets forecast together and saved in one transaction


class RefreshWorker(LoopWorker):
    name = "forecast_refresh"

    def __init__(
        self,
        telemetry: TelemetryService,
        registry: RegistryService,
        forecasts: ForecastService,
        interval: float = 1.0,
        *,
        activity: ActivityPort | None = None,
        leases: LocksPort | None = None,
        scoring: ScoringService | None = None,
    ):
        super().__init__(interval, leases=leases)
        self._activity = activity
        self._telemetry = telemetry
        self._registry = registry
        self._forecasts = forecasts
        self._scoring = scoring or ScoringService(forecasts.readings_port, registry, forecasts)
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[FailureForecast], None]] = []
        self.refreshed = 0

    def on_forecast(self, fn: Callable[[FailureForecast], None]) -> None:
        """Call ``fn`` with every forecast the worker saves (live pages)."""
        self._subscribers.append(fn)

    def _mark(self, batch: ReadingBatch) -> None:
        with self._lock:
            self._dirty.update(set(batch.asset_id.tolist()))

    def start(self) -> RefreshWorker:
        if self._activity is None:
            self._telemetry.on_readings(self._mark)
        super().start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        super().stop(timeout)
        self._telemetry.off_readings(self._mark)

    def details(self) -> dict[str, int]:
        with self._lock:
            pending = len(self._dirty)
        return {"refreshed": self.refreshed, "pending": pending}

    def tick(self) -> None:
        self.refresh_now()

    def take(self) -> None:
        """Add the assets the store says got readings since the last take (any process)."""
        if self._activity is not None:
            fresh = self._activity.take_fresh_assets()
            with self._lock:
                self._dirty.update(fresh)

    def refresh_now(self) -> int:
        """Forecast every asset that got readings since the last round, ``CHUNK`` assets at a
        time, each chunk saved in one transaction: a burst over many assets does not pay a
        commit per asset, and the first results show while the rest are computed."""
        self.take()
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        n = 0
        todo = sorted(dirty)
        try:
            while todo:
                if self._stop.is_set():  # shutting down: the rest waits for the next start
                    break
                assets = self._registry.snapshot().assets
                part = [assets[i] for i in todo[:CHUNK] if i in assets]
                forecasts, healths = self._scoring.assess(part)
                stale = _replaced_meanwhile(part, self._registry)
                if stale:  # forecast again next round, from the new part's readings alone
                    with self._lock:
                        self._dirty.update(stale)
                    forecasts = [f for f in forecasts if f.asset_id not in stale]
                    healths = [h for h in healths if h.asset_id not in stale]
                n += self._save(forecasts, healths)
                del todo[:CHUNK]
            with self._lock:  # stopped midway: the rest is forecast in the next round
                self._dirty.update(todo)
        except Exception:
            # the store went away: what was not saved is marked dirty again for the next round
            with self._lock:
                self._dirty.update(todo)
            raise
        self.refreshed += n
        return n

    def _save(self, forecasts: list[FailureForecast], healths: list[HealthScore]) -> int:
        if not forecasts and not healths:
            return 0
        self._forecasts.save(forecasts, healths)
        for f in forecasts:
            for fn in self._subscribers:
                try:
                    fn(f)
                except Exception:  # a live page that went wrong must not stop the refresh
                    log.exception("forecast subscriber failed")
        return len(forecasts)


def _replaced_meanwhile(part: list, registry: RegistryService) -> set[str]:
    """Assets whose part was replaced while their results were computed. A result read from
    the old part's life up to the new part's first readings is stamped after the replacement,
    and saved it passed for the new part's: an elevator fitted two hours before was "failing
    in nine days", and the planner replaced it again the next day."""
    now = registry.snapshot().assets
    return {a.id for a in part if a.id in now and now[a.id].installed_at != a.installed_at}
