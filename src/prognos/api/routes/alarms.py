"""Alarms: the desk's list (filters, paging with a total, newest first), one alarm, acknowledging
(one or in bulk by ids or filters), clearing (the manufacturer), and each type's alarm rules."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from prognos.api.deps import PlatformDep, PrincipalDep
from prognos.api.schemas import (
    Acknowledged,
    AlarmChange,
    AlarmPage,
    AlarmRulesReply,
    BulkAcknowledge,
)
from prognos.domain.alarms import Alarm
from prognos.service.alarm_desk import AlarmQuery

router = APIRouter(tags=["alarms"])


@router.get("/alarms")
def list_alarms(
    platform: PlatformDep,
    principal: PrincipalDep,
    state: Annotated[
        str | None, Query(description="active, silenced, acknowledged, cleared, open (not cleared)")
    ] = None,
    severity: Annotated[str | None, Query(description="warning or critical")] = None,
    customer: str | None = None,
    site: str | None = None,
    asset: str | None = None,
    type: Annotated[str | None, Query(description="asset type id")] = None,
    cause: Annotated[
        str | None, Query(description="e.g. threshold:T50:above, zscore, no_data")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AlarmPage:
    """Alarms the caller may see, newest first (a customer: its own assets' only)."""
    q = AlarmQuery(state, severity, customer, site, asset, type, cause, size=limit, skip=offset)
    page = platform.alarms.page(principal, q)
    return AlarmPage(total=page.total, limit=limit, offset=offset, items=page.items)


@router.post("/alarms/ack")
def acknowledge_alarms(
    body: BulkAcknowledge, platform: PlatformDep, principal: PrincipalDep
) -> Acknowledged:
    """Acknowledge alarms by ids, or every active or silenced one the filter selects."""
    q = AlarmQuery(**body.filter.model_dump()) if body.filter is not None else None
    n = platform.alarms.acknowledge_many(principal, ids=body.ids, q=q, note=body.note)
    return Acknowledged(acknowledged=n)


@router.get("/alarms/{alarm_id}")
def get_alarm(alarm_id: str, platform: PlatformDep, principal: PrincipalDep) -> Alarm:
    """One alarm with its lifecycle: occurrences, escalations, acknowledgement, clearing."""
    return platform.alarms.get(principal, alarm_id)


@router.patch("/alarms/{alarm_id}")
def change_alarm(
    alarm_id: str, change: AlarmChange, platform: PlatformDep, principal: PrincipalDep
) -> Alarm:
    """Acknowledge (with a note), or clear (the manufacturer's)."""
    if change.action == "clear":
        return platform.alarms.clear(principal, alarm_id, change.note)
    return platform.alarms.acknowledge(principal, alarm_id, change.note)


@router.get("/asset-types/{type_id}/alarm-rules")
def get_alarm_rules(
    type_id: str, platform: PlatformDep, principal: PrincipalDep
) -> AlarmRulesReply:
    rules, own = platform.alarms.rules(principal, type_id)
    return AlarmRulesReply(type_id=type_id, own=own, rules=rules)


@router.put("/asset-types/{type_id}/alarm-rules")
def put_alarm_rules(
    type_id: str,
    platform: PlatformDep,
    principal: PrincipalDep,
    body: Annotated[dict[str, Any], Body(description="AlarmRules: clear_after_s and rules")],
) -> AlarmRulesReply:
    """Set a type's rules (threshold, rate, zscore, probability, no_data; docs/alarms.md);
    errors name the rule and the field."""
    rules = platform.alarms.put_rules(principal, type_id, body)
    return AlarmRulesReply(type_id=type_id, own=True, rules=rules)


@router.delete("/asset-types/{type_id}/alarm-rules")
def reset_alarm_rules(
    type_id: str, platform: PlatformDep, principal: PrincipalDep
) -> AlarmRulesReply:
    """Back to the default rules."""
    rules = platform.alarms.reset_rules(principal, type_id)
    return AlarmRulesReply(type_id=type_id, own=False, rules=rules)
