"""Keep forecasts fresh: new readings for an asset give it a new stored forecast within seconds.

A listener on committed batches marks assets dirty; one background thread forecasts the dirty
assets every ``interval`` seconds (batching bursts: a stream of readings costs one forecast per
asset per interval, not one per reading). Forecast failures are logged, never raised into ingest.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from prognos.domain import FailureForecast, HealthScore, ReadingBatch
from prognos.service.platform import Platform

log = logging.getLogger(__name__)

SAVE_EVERY = 50  # forecasts and scores per transaction


class ForecastRefresher:
    def __init__(self, platform: Platform, interval: float = 1.0):
        self.platform = platform
        self.interval = interval
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._subscribers: list[Callable[[FailureForecast], None]] = []
        self.refreshed = 0

    def on_forecast(self, fn: Callable[[FailureForecast], None]) -> None:
        self._subscribers.append(fn)

    def _mark(self, batch: ReadingBatch) -> None:
        with self._lock:
            self._dirty.update(set(batch.asset_id.tolist()))

    def start(self) -> ForecastRefresher:
        self.platform.on_readings(self._mark)
        self._thread = threading.Thread(
            target=self._loop, name="prognos-forecast-refresh", daemon=True
        )
        self._thread.start()
        return self

    def status(self) -> dict[str, int | bool]:
        with self._lock:
            pending = len(self._dirty)
        alive = self._thread is not None and self._thread.is_alive()
        return {"running": alive, "refreshed": self.refreshed, "pending": pending}

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def refresh_now(self) -> int:
        """Forecast every asset that got readings since the last round; saved in chunks of
        ``SAVE_EVERY`` (one transaction each), so a burst over many assets does not pay a
        commit per asset, and the first results show while the rest are computed."""
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        n = 0
        forecasts, healths = [], []
        for asset_id in sorted(dirty):
            if self._stop.is_set():  # shutting down: the rest waits for the next start
                break
            asset = self.platform.store.get_asset(asset_id)
            if asset is None:
                continue
            try:
                f, h = self.platform.forecaster.assess(asset)
            except Exception:
                log.exception("forecast of %s failed", asset_id)
                continue
            forecasts += [f] if f is not None else []
            healths += [h] if h is not None else []
            if len(forecasts) + len(healths) >= SAVE_EVERY:
                n += self._save(forecasts, healths)
                forecasts, healths = [], []
        n += self._save(forecasts, healths)
        self.refreshed += n
        return n

    def _save(self, forecasts: list[FailureForecast], healths: list[HealthScore]) -> int:
        if not forecasts and not healths:
            return 0
        try:
            self.platform.forecaster.save(forecasts, healths)
        except Exception:  # the store is down: these assets wait for their next readings
            log.exception("saving %d forecasts failed", len(forecasts))
            return 0
        for f in forecasts:
            for fn in self._subscribers:
                fn(f)
        return len(forecasts)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.refresh_now()
