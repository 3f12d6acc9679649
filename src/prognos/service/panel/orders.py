"""Work orders and alarms as the panel moves them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from prognos.domain import Principal
from prognos.domain.planning import (
    Finding,
    SiteCalendar,
    WindowKind,
    WorkOrder,
    WorkOrderStatus,
)
from prognos.errors import NotFound, ValidationFailed
from prognos.service import maintenance
from prognos.service.panel._common import (
    ALARM,
    CALENDAR,
    WORKORDER,
    _day,
    _rows,
    _utc,
)
from prognos.service.platform import Platform

# The panel's work-order buttons and the lifecycle moves they make (completing is its own).
ACTIONS = {"dispatch": WorkOrderStatus.dispatched, "start": WorkOrderStatus.in_progress}


# -- work orders -------------------------------------------------------------------------------
# The lifecycle, its tenancy and the feedback of findings live in ``service.maintenance`` (the
# API's PATCH goes there too); the panel adds its policy: the manufacturer's service team moves
# orders, customers watch.
save_order = maintenance.save_order


def get_order(platform: Platform, p: Principal, order_id: str) -> WorkOrder:
    return maintenance.get_order(platform, p, order_id)


def list_orders(
    platform: Platform, p: Principal, status: str | None = None, asset_id: str | None = None
) -> list[WorkOrder]:
    """Work orders the caller may see, soonest first (done and cancelled last)."""
    orders = maintenance.list_orders(platform, p, status=status or None, asset_id=asset_id)
    final = {WorkOrderStatus.done, WorkOrderStatus.cancelled}
    return sorted(orders, key=lambda o: (o.status in final, o.day, o.id))


def transition_order(platform: Platform, p: Principal, order_id: str, action: str) -> WorkOrder:
    """Dispatch or start an order."""
    platform.require_manufacturer(p)
    if action not in ACTIONS:
        raise ValidationFailed(f"unknown action {action!r}", hint=f"use {', '.join(ACTIONS)}")
    return maintenance.transition(platform, p, order_id, ACTIONS[action].value)


def complete_order(
    platform: Platform,
    p: Principal,
    order_id: str,
    condition: str = "",
    measured_wear: float | None = None,
    failure_found: bool = False,
    part_replaced: bool = True,
    at: datetime | None = None,
) -> WorkOrder:
    """Mark an order done with the crew's findings (they become a labelled event)."""
    platform.require_manufacturer(p)
    finding = Finding(
        condition=condition.strip(),
        measured_wear=measured_wear,
        failure_found=failure_found,
        part_replaced=part_replaced,
        at=at or datetime.now(UTC),
    )
    return maintenance.transition(platform, p, order_id, WorkOrderStatus.done.value, finding)


# -- alarms --------------------------------------------------------------------------------------
def maintenance_reason(platform: Platform, asset_id: str, at: datetime) -> str | None:
    """Why an alarm at ``at`` falls in a maintenance window, or None.

    A window is a job on the asset that day (dispatched or under way) or a planned stop or
    shutdown of the asset's site calendar: readings then reflect the work, not the machine.
    """
    a = platform.store.get_asset(asset_id)
    if a is None:
        raise NotFound(f"asset {asset_id!r} not found")
    for d in platform.store.list_documents(WORKORDER, asset_id=asset_id):
        if d.get("status") == "in_progress" or (
            d.get("status") == "dispatched" and _day(d.get("day")) == at.date()
        ):
            return f"work order {d['id']} ({d['status']})"
    cal_doc = platform.store.get_document(CALENDAR, a.site_id)
    if cal_doc:
        cal = SiteCalendar.model_validate(cal_doc)
        for w in cal.of_kind(WindowKind.stop, WindowKind.shutdown):
            if w.start <= at < w.end:
                return f"{w.kind.value} {w.label}".strip()
    return None


def raise_alarm(
    platform: Platform,
    asset_id: str,
    message: str,
    channels: dict[str, float] | None = None,
    severity: str = "warning",
    at: datetime | None = None,
    alarm_id: str | None = None,
) -> dict[str, Any]:
    """Store an alarm; inside a maintenance window it is stored silenced, with the reason."""
    at = _utc(at) or datetime.now(UTC)
    a = platform.store.get_asset(asset_id)
    if a is None:
        raise NotFound(f"asset {asset_id!r} not found")
    reason = maintenance_reason(platform, asset_id, at)
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
    platform.store.put_document(
        ALARM, doc["id"], doc, customer_id=a.customer_id, asset_id=asset_id, status=doc["status"]
    )
    return doc


def list_alarms(platform: Platform, p: Principal, status: str | None = "open") -> list[dict]:
    docs = platform.store.list_documents(
        ALARM, customer_id=None if p.is_manufacturer else p.customer_id, status=status or None
    )
    return sorted(docs, key=lambda d: d["raised_at"], reverse=True)


def alarm_counts(platform: Platform, p: Principal) -> dict[str, int]:
    sql = "SELECT status, count(*) FROM documents WHERE kind = 'alarm'"
    params: list[Any] = []
    if not p.is_manufacturer:
        sql += " AND customer_id = ?"
        params.append(p.customer_id)
    return {s: int(n) for s, n in _rows(platform, sql + " GROUP BY status", params)}


def acknowledge_alarm(
    platform: Platform, p: Principal, alarm_id: str, at: datetime | None = None
) -> dict[str, Any]:
    """Acknowledge an open (or silenced) alarm; the owner or the manufacturer may."""
    d = platform.store.get_document(ALARM, alarm_id)
    if d is None or not p.may_see(d["customer_id"]):
        raise NotFound(f"alarm {alarm_id!r} not found")
    if d["status"] != "acknowledged":
        d = {
            **d,
            "status": "acknowledged",
            "acked_at": (at or datetime.now(UTC)).isoformat(),
            "acked_by": p.name or p.key_id,
        }
        platform.store.put_document(
            ALARM,
            alarm_id,
            d,
            customer_id=d["customer_id"],
            asset_id=d["asset_id"],
            status="acknowledged",
        )
    return d
