"""Where alarm news goes: the caller's webhooks and e-mail targets (the manufacturer's hear about
every alarm, a customer's about its own), and what could not be delivered."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from prognos.api.deps import PlatformDep, PrincipalDep
from prognos.api.schemas import DeadLetter, NotificationTargets
from prognos.domain.notifications import Targets

router = APIRouter(tags=["alarms"])


def _reply(platform, principal, customer_id, targets, made=None) -> NotificationTargets:
    owner = customer_id or ("manufacturer" if principal.is_manufacturer else principal.customer_id)
    return NotificationTargets(owner=owner, targets=targets, new_secrets=made or {})


@router.get("/notifications")
def get_notifications(platform: PlatformDep, principal: PrincipalDep) -> NotificationTargets:
    """The caller's own targets (webhook secrets masked)."""
    return _reply(platform, principal, None, platform.notifications.targets(principal))


@router.put("/notifications")
def put_notifications(
    targets: Targets, platform: PlatformDep, principal: PrincipalDep
) -> NotificationTargets:
    """Replace the caller's targets. A webhook without a secret gets one, shown once in
    ``new_secrets``; one sent back masked keeps its secret."""
    stored, made = platform.notifications.put_targets(principal, targets)
    return _reply(platform, principal, None, stored, made)


@router.get("/customers/{customer_id}/notifications")
def get_customer_notifications(
    customer_id: str, platform: PlatformDep, principal: PrincipalDep
) -> NotificationTargets:
    return _reply(
        platform, principal, customer_id, platform.notifications.targets(principal, customer_id)
    )


@router.put("/customers/{customer_id}/notifications")
def put_customer_notifications(
    customer_id: str, targets: Targets, platform: PlatformDep, principal: PrincipalDep
) -> NotificationTargets:
    """A customer's targets (its own key, or the manufacturer's for it)."""
    stored, made = platform.notifications.put_targets(principal, targets, customer_id)
    return _reply(platform, principal, customer_id, stored, made)


@router.get("/notifications/dead-letters")
def dead_letters(
    platform: PlatformDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[DeadLetter]:
    """Deliveries given up on, newest first, with their last error (the manufacturer's)."""
    return [
        DeadLetter.model_validate(d) for d in platform.notifications.dead_letters(principal, limit)
    ]
