"""Alarms: raised by health scores, silenced in maintenance windows, acknowledged by people.

An alarm raised while its asset is being worked on (a job dispatched for that day or under
way) or while its site is in a planned stop or shutdown is stored silenced, with the reason:
readings then reflect the work, not the machine.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from prognos.domain import HealthScore, Principal, WindowKind
from prognos.errors import NotFound
from prognos.service.calendars import CalendarService
from prognos.service.registry import RegistryService
from prognos.service.timeutil import as_day, as_utc
from prognos.store.ports import DocumentsPort, Kind


class AlarmService:
    def __init__(
        self, documents: DocumentsPort, registry: RegistryService, calendars: CalendarService
    ):
        self._docs = documents
        self._registry = registry
        self._calendars = calendars

    def maintenance_reason(self, asset_id: str, at: datetime) -> str | None:
        """Why an alarm at ``at`` falls in a maintenance window, or None."""
        a = self._registry.snapshot().assets.get(asset_id)
        if a is None:
            raise NotFound(f"asset {asset_id!r} not found")
        for d in self._docs.list_documents(Kind.workorder, asset_id=asset_id):
            if d.get("status") == "in_progress" or (
                d.get("status") == "dispatched" and as_day(d.get("day")) == at.date()
            ):
                return f"work order {d['id']} ({d['status']})"
        cal = self._calendars.of_site(a.site_id)
        if cal:
            for w in cal.of_kind(WindowKind.stop, WindowKind.shutdown):
                if w.start <= at < w.end:
                    return f"{w.kind.value} {w.label}".strip()
        return None

    def raise_alarm(
        self,
        asset_id: str,
        message: str,
        channels: dict[str, float] | None = None,
        severity: str = "warning",
        at: datetime | None = None,
        alarm_id: str | None = None,
    ) -> dict[str, Any]:
        """Store an alarm; inside a maintenance window it is stored silenced, with the reason."""
        at = as_utc(at) or datetime.now(UTC)
        a = self._registry.snapshot().assets.get(asset_id)
        if a is None:
            raise NotFound(f"asset {asset_id!r} not found")
        reason = self.maintenance_reason(asset_id, at)
        doc = {
            "id": alarm_id or f"al-{uuid.uuid4().hex[:10]}",
            "asset_id": asset_id,
            "customer_id": a.customer_id,
            "raised_at": at.isoformat(),
            "severity": severity,
            "message": message,
            "channels": dict(channels or {}),
            "status": "silenced" if reason else "open",
            "silenced_because": reason,
            "acked_at": None,
            "acked_by": None,
        }
        self._save(doc)
        return doc

    def from_health(self, h: HealthScore) -> dict[str, Any] | None:
        """One alarm per asset and day while channels are anomalous (silenced inside
        maintenance windows)."""
        if not h.anomalies:
            return None
        alarm_id = f"al-{h.asset_id}-{h.as_of:%Y%m%d}"
        if self._docs.get_document(Kind.alarm, alarm_id) is not None:
            return None
        worst = max(h.anomalies, key=lambda c: abs(h.anomalies[c]))
        message = f"{worst} unusual (z {h.anomalies[worst]:+.1f}); health {h.score:.0f}/100"
        severity = "critical" if h.score < 40 else "warning"
        return self.raise_alarm(h.asset_id, message, h.anomalies, severity, h.as_of, alarm_id)

    def list_alarms(
        self, p: Principal, status: str | None = "open", asset_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Alarms the caller may see, newest first."""
        if asset_id is not None:
            self._registry.asset(p, asset_id)
        docs = self._docs.list_documents(
            Kind.alarm,
            customer_id=None if p.is_manufacturer else p.customer_id,
            asset_id=asset_id,
            status=status or None,
        )
        return sorted(docs, key=lambda d: d["raised_at"], reverse=True)

    def counts(self, p: Principal) -> dict[str, int]:
        """How many alarms the caller may see, by status."""
        return self._docs.count_documents(
            Kind.alarm, customer_id=None if p.is_manufacturer else p.customer_id
        )

    def acknowledge(
        self, p: Principal, alarm_id: str, at: datetime | None = None
    ) -> dict[str, Any]:
        """Acknowledge an open (or silenced) alarm; the owner or the manufacturer may."""
        d = self._docs.get_document(Kind.alarm, alarm_id)
        if d is None or not p.may_see(d["customer_id"]):
            raise NotFound(f"alarm {alarm_id!r} not found")
        if d["status"] != "acknowledged":
            d = {
                **d,
                "status": "acknowledged",
                "acked_at": (at or datetime.now(UTC)).isoformat(),
                "acked_by": p.name or p.key_id,
            }
            self._save(d)
        return d

    def _save(self, doc: dict[str, Any]) -> None:
        self._docs.put_document(
            Kind.alarm,
            doc["id"],
            doc,
            customer_id=doc["customer_id"],
            asset_id=doc["asset_id"],
            status=doc["status"],
        )
