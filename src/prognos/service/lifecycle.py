"""Where each asset stands: in service, offline (last seen too long ago), or retired.

``in_service`` and ``retired`` are stored with the asset (``Asset.lifecycle``); ``offline`` is
derived: an in-service asset whose newest reading is older than ``offline_after_intervals``
times its type's expected sampling interval, counted back from the *data clock*. The expected
interval is the type's declared ``sample_interval_s``, else learned from readings (the median
gap between consecutive time stamps of a few of its assets, cached).

The data clock is the newest reading of any in-service asset, never later than now: "now" as
the fleet's data tells it. An asset is offline when it fell silent while the others went on;
when the whole fleet falls silent (the ingest stopped, a replay paused) that is the platform's
problem, and the workers' status and ``/api/v1/health`` say so, not every asset at once. The
planner plans from the same clock, so a replay of history (the demo's catch-up, ``bench
loop``) plans its jobs in the replayed time, not after it.

A retired asset keeps its history (training reads it: the C-MAPSS run-to-failure engines are
retired history) but leaves the live KPIs, alarms and plans.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from prognos.domain import Asset, Lifecycle, Principal
from prognos.service.registry import RegistryService
from prognos.store.ports import ReadingsPort

CACHE_S = 5.0  # last-seen times are read again after this (the fleet page polls)
LEARN_FROM = 5  # assets of a type whose gaps teach its sampling interval


@dataclass(frozen=True)
class AssetState:
    """An asset's lifecycle state now, when it last reported, and how long it may be silent."""

    state: Lifecycle
    last_seen: datetime | None
    offline_after_s: float | None


class LifecycleService:
    def __init__(
        self,
        readings: ReadingsPort,
        registry: RegistryService,
        offline_after_intervals: float = 6.0,
    ):
        self._readings = readings
        self._registry = registry
        self.offline_after_intervals = offline_after_intervals
        self._seen: tuple[float, dict[str, datetime]] = (float("-inf"), {})
        self._intervals: dict[str, tuple[float | None, Any]] = {}
        self._states: dict[str | None, tuple[Any, Any, dict[str, AssetState]]] = {}
        self._lock = threading.Lock()

    # -- clocks and intervals --------------------------------------------------------------------
    def last_seen(self, fresh: bool = False) -> dict[str, datetime]:
        """Newest reading time of every asset that has one (cached for ``CACHE_S``)."""
        with self._lock:
            at, seen = self._seen
            if not fresh and time.monotonic() - at < CACHE_S:
                return seen
        seen = self._readings.last_seen()
        with self._lock:
            self._seen = (time.monotonic(), seen)
        return seen

    def data_clock(self, now: datetime | None = None, fresh: bool = False) -> datetime:
        """The newest reading of any in-service asset, at most ``now`` (now when none)."""
        now = now or datetime.now(UTC)
        assets = self._registry.snapshot().assets
        seen = [
            t
            for a, t in self.last_seen(fresh).items()
            if a in assets and not assets[a].retired and t is not None
        ]
        return min(max(seen), now) if seen else now

    def expected_interval(self, type_id: str) -> float | None:
        """Seconds between an asset's readings: declared by its type, else learned (cached)."""
        snap = self._registry.snapshot()
        t = snap.types.get(type_id)
        if t is not None and t.sample_interval_s:
            return float(t.sample_interval_s)
        with self._lock:
            known = self._intervals.get(type_id)
            seen = self._seen[1]
        # learned once; "not yet learnable" (too few readings) is asked again once the
        # last-seen times were read again (new readings may teach it)
        if known is not None and (known[0] is not None or known[1] is seen):
            return known[0]
        live = sorted(a.id for a in snap.assets.values() if a.type_id == type_id and not a.retired)
        gaps = [g for g in self._readings.reading_gaps(live[:LEARN_FROM]) if g > 0]
        learned = float(statistics.median(gaps)) if gaps else None
        with self._lock:
            self._intervals[type_id] = (learned, seen)
        return learned

    def offline_after_s(self, type_id: str) -> float | None:
        """How long an asset of this type may be silent before it counts as offline."""
        step = self.expected_interval(type_id)
        return None if step is None else step * self.offline_after_intervals

    # -- states ------------------------------------------------------------------------------------
    def states(
        self, p: Principal, assets: list[Asset] | None = None, now: datetime | None = None
    ) -> dict[str, AssetState]:
        """The state of these assets (default: every one the caller may see; that answer is
        kept while the registry and the last-seen times it came from stay the same, so a
        fleet page polled every few seconds does not walk the whole fleet each time)."""
        seen = self.last_seen()
        scope = None if p.is_manufacturer else p.customer_id
        if assets is None and now is None:
            snap = self._registry.snapshot()
            with self._lock:
                hit = self._states.get(scope)
            if hit is not None and hit[0] is snap and hit[1] is seen:
                return dict(hit[2])
            out = self._states_of(p, list(snap.assets.values()), seen, now)
            with self._lock:
                self._states[scope] = (snap, seen, out)
            return dict(out)
        if assets is None:
            assets = list(self._registry.snapshot().assets.values())
        return self._states_of(p, assets, seen, now)

    def _states_of(
        self, p: Principal, assets: list[Asset], seen: dict[str, datetime], now: datetime | None
    ) -> dict[str, AssetState]:
        clock = self.data_clock(now)
        limits: dict[str, Any] = {}
        # a fleet page asks for every asset: one loop, the offline cut-off once per type
        cutoff: dict[str, datetime | None] = {}
        out: dict[str, AssetState] = {}
        retired, offline, live = Lifecycle.retired, Lifecycle.offline, Lifecycle.in_service
        for a in assets:
            if not p.may_see(a.customer_id):
                continue
            t = a.type_id
            if t not in limits:
                limits[t] = self.offline_after_s(t)
                cutoff[t] = None if limits[t] is None else clock - timedelta(seconds=limits[t])
            last = seen.get(a.id)
            if a.lifecycle is retired:
                state = retired
            elif last is not None and cutoff[t] is not None and last < cutoff[t]:
                state = offline
            else:
                state = live
            out[a.id] = AssetState(state, last, limits[t])
        return out

    def state(self, p: Principal, asset_id: str, now: datetime | None = None) -> AssetState:
        a = self._registry.asset(p, asset_id)
        return self.states(p, [a], now)[a.id]

    def with_state(
        self, p: Principal, state: str | None, **filters: Any
    ) -> tuple[list[Asset], dict[str, AssetState]]:
        """The assets the caller may see that match ``filters`` (``RegistryService.assets``)
        and are in ``state`` (None: any), with their states."""
        stored = Lifecycle.retired.value if state == Lifecycle.retired else None
        if state in (Lifecycle.in_service, Lifecycle.offline):
            stored = Lifecycle.in_service.value
        assets, _ = self._registry.assets(p, lifecycle=stored, **filters)
        states = self.states(p, assets)
        if state is not None:
            assets = [a for a in assets if states[a.id].state == state]
        return assets, states

    # -- changes (the manufacturer's) --------------------------------------------------------------
    def retire(self, p: Principal, asset_id: str, at: datetime | None = None) -> Asset:
        """Take an asset out of service: its history stays (and trains models), it leaves the
        live KPIs, alarms and plans (its open work orders are cancelled by the next plan)."""
        p.require_manufacturer("the manufacturer keeps the installed base")
        a = self._registry.asset(p, asset_id)
        return self._registry.set_lifecycle(p, a, Lifecycle.retired, at or datetime.now(UTC))

    def reinstate(self, p: Principal, asset_id: str) -> Asset:
        """Put a retired asset back into service."""
        p.require_manufacturer("the manufacturer keeps the installed base")
        a = self._registry.asset(p, asset_id)
        return self._registry.set_lifecycle(p, a, Lifecycle.in_service, None)
