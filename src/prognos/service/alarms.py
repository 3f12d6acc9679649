"""Alarms: raised by rules where data arrive, one per asset and cause while the condition lasts,
silenced in maintenance windows, cleared when the condition is gone or the part was replaced.

``observe`` is the one entry point the platform calls: with each committed batch of readings
(threshold and rate rules, vectorised; and when each asset last reported), and with each saved
health score (z-score rule) or forecast (probability rule). ``sweep``, every minute in a worker,
flags assets that stopped reporting (no-data rule) and clears alarms whose condition stayed
away for the normal period. A completed work order clears its asset's alarms (``work_done``).
What the rules find (``alarm_rules``) becomes alarms in ``alarm_lifecycle``; the desk's reads
and people's acknowledgements are ``alarm_desk``; news goes to the notification outbox.

An alarm raised while its asset is being worked on (a job dispatched for that day or under way)
or while its site is in a planned stop or shutdown is silenced, with the reason: readings then
reflect the work, not the machine. Retired assets raise none.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from prognos.domain import (
    Asset,
    FailureForecast,
    HealthScore,
    Principal,
    ReadingBatch,
    TimeUnit,
    WindowKind,
)
from prognos.domain.alarms import (
    BATCH_KINDS,
    Alarm,
    AlarmEvent,
    AlarmRules,
    Condition,
    Severity,
)
from prognos.domain.keys import MANUFACTURER
from prognos.domain.planning import WorkOrder
from prognos.errors import NotFound, ValidationFailed
from prognos.service import alarm_lifecycle as life
from prognos.service.alarm_desk import AlarmDesk
from prognos.service.alarm_readings import Batch, RateMemory, readings_conditions
from prognos.service.alarm_rules import (
    RulesBook,
    forecast_conditions,
    health_conditions,
    no_data_conditions,
)
from prognos.service.calendars import CalendarService
from prognos.service.registry import RegistryService
from prognos.service.timeutil import as_day, as_utc, utcnow
from prognos.store.ports import AlarmsPort, DocumentsPort, Kind

log = logging.getLogger(__name__)

SEEN_EVERY_S = 30.0  # how often one process writes when its assets last reported
Notify = Callable[[list[tuple[AlarmEvent, Alarm]]], None]


def raises_alarms(asset: Asset) -> bool:
    """Retired assets raise no alarms (the asset lifecycle's ``retired``, where it is kept)."""
    d = asset.__dict__
    return "retired" not in (str(d.get("lifecycle") or ""), str(d.get("status") or ""))


class AlarmService(AlarmDesk):
    def __init__(
        self,
        alarms: AlarmsPort,
        documents: DocumentsPort,
        registry: RegistryService,
        calendars: CalendarService,
        notify: Notify | None = None,
        clock: Callable[[], datetime] = utcnow,
    ):
        self._alarms = alarms
        self._docs = documents
        self._registry = registry
        self._calendars = calendars
        self._notify_fn = notify
        self.clock = clock
        self.rules_book = RulesBook(documents)
        self._rates = RateMemory()
        self._lock = threading.RLock()  # the lifecycle's read-apply-write, one at a time here
        self._seen_lock = threading.Lock()
        self._seen_pending: dict[str, tuple[int, datetime]] = {}
        self._seen_flushed = float("-inf")
        self._started = clock()

    # -- the entry point -----------------------------------------------------------------------
    def observe(
        self,
        *,
        readings: ReadingBatch | None = None,
        healths: Iterable[HealthScore] = (),
        forecasts: Iterable[FailureForecast] = (),
    ) -> list[Alarm]:
        """Evaluate the rules on what just arrived; returns the alarms raised or updated."""
        now = self.clock()
        snap = self._registry.snapshot()
        conditions: list[Condition] = []
        if readings is not None and len(readings):
            conditions += self._from_readings(readings, snap.assets, now)
        for h in healths:
            a = snap.assets.get(h.asset_id)
            if a is not None:
                conditions += health_conditions(h, self.rules_book.of(a.type_id))
        for f in forecasts:
            a = snap.assets.get(f.asset_id)
            if a is not None:
                t = snap.types.get(a.type_id)
                unit = _unit_seconds(f.time_unit, t.time_unit.seconds if t else 86400.0)
                conditions += forecast_conditions(f, self.rules_book.of(a.type_id), unit)
        return self._apply(conditions, now)

    def on_readings(self, batch: ReadingBatch) -> None:
        """The listener on committed batches (``TelemetryService.on_readings``)."""
        self.observe(readings=batch)

    def _from_readings(
        self, batch: ReadingBatch, assets: dict[str, Asset], now: datetime
    ) -> list[Condition]:
        b = Batch.of(batch)
        with self._seen_lock:
            for a, t in zip(b.assets, b.newest_per_asset().tolist(), strict=True):
                old = self._seen_pending.get(a)
                self._seen_pending[a] = (max(t, old[0]) if old else t, now)
        if time.monotonic() - self._seen_flushed >= SEEN_EVERY_S:
            self.flush_seen()
        slot: dict[str, int] = {}
        rules: list[AlarmRules | None] = []
        type_codes = np.full(len(b.assets), -1, dtype=np.int64)
        for i, a in enumerate(b.assets):
            asset = assets.get(a)
            if asset is None:
                continue
            if asset.type_id not in slot:
                r = self.rules_book.of(asset.type_id)
                slot[asset.type_id] = len(rules)
                rules.append(r if r.of_kind(*BATCH_KINDS) else None)
            type_codes[i] = slot[asset.type_id]
        if not any(r is not None for r in rules):
            return []
        return readings_conditions(b, type_codes, rules, self._rates)

    def flush_seen(self) -> None:
        """Write when this process's assets last reported (every ``SEEN_EVERY_S`` at most)."""
        with self._seen_lock:
            pending, self._seen_pending = self._seen_pending, {}
            self._seen_flushed = time.monotonic()
        if pending:
            rows = [(a, _from_us(t), rx) for a, (t, rx) in pending.items()]
            self._alarms.mark_seen(rows)

    # -- conditions from elsewhere -------------------------------------------------------------
    def report(
        self,
        p: Principal,
        asset_id: str,
        cause: str,
        message: str,
        severity: str = "warning",
        at: datetime | None = None,
        details: dict[str, Any] | None = None,
        channel: str | None = None,
        clear_after_s: float | None = None,
    ) -> Alarm:
        """A condition a person or another system reports (the manufacturer's): the same
        lifecycle as the rules' (one alarm per asset and cause, silenced in maintenance)."""
        p.require_manufacturer("alarms are raised by rules and the manufacturer's systems")
        a = self._registry.asset(p, asset_id)
        if not cause.strip() or len(cause) > 100:
            raise ValidationFailed("an alarm's cause is a short name (1-100 characters)")
        c = Condition(
            asset_id=a.id,
            cause=cause.strip(),
            rule="reported",
            severity=Severity(severity),
            at=as_utc(at) or self.clock(),
            message=message,
            channel=channel,
            details=dict(details or {}),
            clear_after_s=clear_after_s,
        )
        touched = self._apply([c], self.clock())
        if not touched:
            raise ValidationFailed(f"asset {asset_id} raises no alarms (retired)")
        return touched[0]

    def import_alarms(self, p: Principal, alarms: list[Alarm]) -> int:
        """Store alarms as they are (an import from another system, a benchmark's fleet), in one
        transaction; no notifications."""
        p.require_manufacturer("alarms are imported by the manufacturer")
        self._alarms.insert_alarms(alarms, self.clock())
        return len(alarms)

    # -- the lifecycle -------------------------------------------------------------------------
    def _apply(self, conditions: list[Condition], now: datetime, retry: bool = True) -> list[Alarm]:
        if not conditions:
            return []
        assets = self._registry.snapshot().assets
        conditions = [
            c for c in conditions if c.asset_id in assets and raises_alarms(assets[c.asset_id])
        ]
        if not conditions:
            return []
        with self._lock:
            current = self._alarms.open_alarms(sorted({c.asset_id for c in conditions}))
            out = life.apply(
                {(a.asset_id, a.cause): a for a in current},
                conditions,
                assets,
                self._silencer(),
                now,
            )
            stored = self._alarms.insert_new_alarms(out.new, now)
            lost = {a.id for a in out.new if a.id not in stored}
            self._alarms.update_alarms(out.changed, now)
            self._alarms.touch_alarms(out.touches, now)
        self._notify([(e, a) for e, a in out.events if a.id not in lost])
        touched = [a for a in out.touched() if a.id not in lost]
        if lost and retry:  # another process raised the same alarm first: occur on it instead
            keys = {(a.asset_id, a.cause) for a in out.new if a.id in lost}
            touched += self._apply(
                [c for c in conditions if (c.asset_id, c.cause) in keys], now, retry=False
            )
        return touched

    def sweep(self, now: datetime | None = None) -> dict[str, int]:
        """One round of the alarm worker: flag assets that stopped reporting, clear alarms whose
        condition stayed away for the normal period (and no-data alarms of assets reporting
        again). Returns what it did."""
        now = as_utc(now) or self.clock()
        self.flush_seen()
        seen = self._alarms.seen()
        snap = self._registry.snapshot()
        rules = {t: self.rules_book.of(t) for t in snap.types}
        watched: dict[str, AlarmRules] = {}
        for a in snap.assets.values():
            r = rules.get(a.type_id)
            if r is not None and raises_alarms(a):
                nd = r.of_kind("no_data")
                # after a restart, give assets a full silent period before calling them offline
                if nd and (now - self._started).total_seconds() >= nd[0].silent_s:
                    watched[a.id] = r
        raised = self._apply(no_data_conditions(watched, seen, now), now)
        cleared = []
        with self._lock:
            for a in self._alarms.open_alarms():
                if a.rule == "no_data":
                    known = as_utc(a.details.get("last_received")) or a.first_seen
                    if a.asset_id in seen and seen[a.asset_id][1] > known:
                        cleared.append(life.clear(a, now, "auto", "readings resumed"))
                    continue
                r = rules.get(a.type_id)
                default = r.clear_after_s if r is not None else 3600.0
                last = seen[a.asset_id][0] if a.asset_id in seen else None
                if life.due_to_clear(a, now, last, default):
                    cleared.append(life.clear(a, now, "auto", "normal for the normal period"))
            self._alarms.update_alarms(cleared, now)
        self._notify([(AlarmEvent.cleared, a) for a in cleared])
        return {"raised": len(raised), "cleared": len(cleared)}

    def work_done(self, p: Principal, o: WorkOrder) -> int:
        """A completed work order clears its asset's alarms raised before the finding (by
        "replacement" when the part was replaced)."""
        if o.finding is None:
            return 0
        at = o.finding.at
        by = "replacement" if o.finding.part_replaced else f"work order {o.id}"
        with self._lock:
            mine = [a for a in self._alarms.open_alarms([o.asset_id]) if a.first_seen <= at]
            done = [life.clear(a, at, by, f"work order {o.id}") for a in mine]
            self._alarms.update_alarms(done, self.clock())
        self._notify([(AlarmEvent.cleared, a) for a in done])
        return len(done)

    def _notify(self, events: list[tuple[AlarmEvent, Alarm]]) -> None:
        if events and self._notify_fn is not None:
            try:
                self._notify_fn(events)
            except Exception:  # news failing must never undo an alarm or a write of readings
                log.exception("alarm notifications could not be queued")

    # -- maintenance windows -------------------------------------------------------------------
    def maintenance_reason(self, asset_id: str, at: datetime) -> str | None:
        """Why an alarm at ``at`` falls in a maintenance window, or None."""
        if asset_id not in self._registry.snapshot().assets:
            raise NotFound(f"asset {asset_id!r} not found")
        return self._silencer()(asset_id, at)

    def _silencer(self) -> Callable[[str, datetime], str | None]:
        """The maintenance windows as one lifecycle round sees them: work orders under way or
        dispatched read once (two queries however many alarms), each site's calendar once."""
        orders: dict[str, list[dict[str, Any]]] | None = None
        calendars: dict[str, Any] = {}
        zones: dict[str, ZoneInfo] = {}
        assets = self._registry.snapshot().assets

        def reason(asset_id: str, at: datetime) -> str | None:
            nonlocal orders
            a = assets.get(asset_id)
            if a is None:
                return None
            if orders is None:
                orders = {}
                for status in ("in_progress", "dispatched"):
                    for d in self._docs.list_documents(Kind.workorder, status=status):
                        orders.setdefault(d.get("asset_id", ""), []).append(d)
            if a.site_id not in calendars:
                calendars[a.site_id] = self._calendars.of_site(a.site_id)
            cal = calendars[a.site_id]
            # a job's day is the site's local day (as the planner plans it), not UTC's
            if a.site_id not in zones:
                tz = cal.timezone if cal else self._registry.site(MANUFACTURER, a.site_id).timezone
                zones[a.site_id] = ZoneInfo(tz or "UTC")
            day = at.astimezone(zones[a.site_id]).date()
            for d in orders.get(asset_id, []):
                if d.get("status") == "in_progress" or as_day(d.get("day")) == day:
                    return f"work order {d['id']} ({d['status']})"
            if cal:
                for w in cal.of_kind(WindowKind.stop, WindowKind.shutdown):
                    if w.start <= at < w.end:
                        return f"{w.kind.value} {w.label}".strip()
            return None

        return reason

    # -- rules ---------------------------------------------------------------------------------
    def rules(self, p: Principal, type_id: str) -> tuple[AlarmRules, bool]:
        """An asset type's alarm rules, and whether they are its own (else the defaults)."""
        self._registry.asset_type(p, type_id)
        return self.rules_book.stored(type_id)

    def put_rules(self, p: Principal, type_id: str, body: Any) -> AlarmRules:
        """Set an asset type's alarm rules (validated: errors name the rule and the field)."""
        p.require_manufacturer("alarm rules are the manufacturer's")
        return self.rules_book.put(self._registry.asset_type(p, type_id), body)

    def reset_rules(self, p: Principal, type_id: str) -> AlarmRules:
        p.require_manufacturer("alarm rules are the manufacturer's")
        self._registry.asset_type(p, type_id)
        self.rules_book.reset(type_id)
        return self.rules_book.of(type_id)


def _unit_seconds(unit: str, fallback: float) -> float:
    try:
        return TimeUnit(unit).seconds
    except ValueError:
        return fallback


def _from_us(t: int) -> datetime:
    return pd.Timestamp(t, unit="us", tz="UTC").to_pydatetime()
