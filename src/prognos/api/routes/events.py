"""Labelled events: failures, replacements, repairs and inspections that the models learn from."""

from __future__ import annotations

from fastapi import APIRouter

from prognos.api.deps import PlatformDep, PrincipalDep
from prognos.api.schemas import AssetEventIn, EventsReply
from prognos.domain.events import LabelledEvent

router = APIRouter(tags=["events"])


@router.post("/assets/{asset_id}/events", status_code=201)
def post_asset_events(
    asset_id: str,
    events: AssetEventIn | list[AssetEventIn],
    platform: PlatformDep,
    principal: PrincipalDep,
) -> EventsReply:
    """One event or a list of them for this asset; the same event twice is stored once."""
    items = events if isinstance(events, list) else [events]
    body = [{**e.model_dump(exclude_none=True), "asset_id": asset_id} for e in items]
    return EventsReply(**platform.events.record(principal, body, source="http"))


@router.post("/events", status_code=201)
def post_events(
    events: list[LabelledEvent], platform: PlatformDep, principal: PrincipalDep
) -> EventsReply:
    """Events of many assets at once (all checked first: one invalid event stores none)."""
    return EventsReply(**platform.events.record(principal, events, source="http"))
