"""The alarm desk's side of the alarms use case: tenant-scoped pages, groups, counts, one alarm,
acknowledging (one, selected, or all matching) and clearing by hand.

A customer sees and acknowledges only its own alarms (another customer's alarm is "not found",
as if it did not exist); the manufacturer sees all and may also clear.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from prognos.domain import Principal
from prognos.domain.alarms import OPEN_STATES, Alarm, AlarmEvent, AlarmState, Severity
from prognos.errors import NotFound, ValidationFailed
from prognos.service import alarm_lifecycle as life
from prognos.service.timeutil import as_utc, utcnow
from prognos.store.ports import AlarmsPort
from prognos.store.sql_alarms import AlarmFilter

# what the desk's state tabs and the API's ``state`` ask for
STATES = {
    "active": (AlarmState.active,),
    "silenced": (AlarmState.silenced,),
    "acknowledged": (AlarmState.acknowledged,),
    "cleared": (AlarmState.cleared,),
    "open": OPEN_STATES,
    "all": (),
}
SEVERITIES = tuple(s.value for s in Severity)


@dataclass
class AlarmQuery:
    """Filters and page of an alarm list (all optional; ``state`` one of ``STATES``)."""

    state: str | None = None
    severity: str | None = None
    customer: str | None = None
    site: str | None = None
    asset: str | None = None
    type: str | None = None
    cause: str | None = None
    page: int = 1
    size: int = 50
    skip: int | None = None  # an offset that need not be a whole number of pages (the API's)

    def __post_init__(self) -> None:
        for name in ("state", "severity", "customer", "site", "asset", "type", "cause"):
            if getattr(self, name) == "":
                setattr(self, name, None)
        if self.state is not None and self.state not in STATES:
            raise ValidationFailed(
                f"no alarm state {self.state!r}", hint=f"use one of {', '.join(STATES)}"
            )
        if self.severity is not None and self.severity not in SEVERITIES:
            raise ValidationFailed(
                f"no severity {self.severity!r}", hint=f"use one of {', '.join(SEVERITIES)}"
            )
        self.page = max(int(self.page), 1)
        self.size = min(max(int(self.size), 1), 500)

    @property
    def offset(self) -> int:
        return max(int(self.skip), 0) if self.skip is not None else (self.page - 1) * self.size


@dataclass
class AlarmPage:
    items: list[Alarm]
    total: int
    query: AlarmQuery

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.size))


class AlarmDesk:
    """Reads and people's acts; ``AlarmService`` adds the lifecycle the platform drives."""

    _alarms: AlarmsPort

    def _notify(self, events: list[tuple[AlarmEvent, Alarm]]) -> None:  # pragma: no cover
        raise NotImplementedError

    def _filter(self, p: Principal, q: AlarmQuery | None = None, **extra: Any) -> AlarmFilter:
        q = q or AlarmQuery()
        customer = q.customer
        nothing = False
        if not p.is_manufacturer:
            nothing = customer is not None and customer != p.customer_id
            customer = p.customer_id
        return AlarmFilter(
            states=tuple(s.value for s in STATES[q.state or "all"]),
            severity=q.severity,
            customer_id=customer,
            site_id=q.site,
            asset_id=q.asset,
            type_id=q.type,
            cause=q.cause,
            nothing=nothing,
            **extra,
        )

    # -- reads ---------------------------------------------------------------------------------
    def page(self, p: Principal, q: AlarmQuery) -> AlarmPage:
        """A page of the alarms the caller may see, newest first, and how many match."""
        f = self._filter(p, q)
        return AlarmPage(
            self._alarms.list_alarms(f, q.size, q.offset), self._alarms.count_alarms(f), q
        )

    def rows(self, p: Principal, q: AlarmQuery) -> list[Alarm]:
        """The page alone (the desk counts by state anyway: ``counts``)."""
        return self._alarms.list_alarms(self._filter(p, q), q.size, q.offset)

    def groups(self, p: Principal, q: AlarmQuery) -> tuple[list[dict[str, Any]], int]:
        """The matching alarms grouped by asset and cause (newest occurrence first), a page."""
        return self._alarms.alarm_groups(self._filter(p, q), q.size, q.offset)

    def counts(self, p: Principal, q: AlarmQuery | None = None) -> dict[str, int]:
        """How many alarms the caller may see (and ``q`` selects, any state), by state."""
        base = replace(q, state=None) if q is not None else None
        return self._alarms.alarm_state_counts(self._filter(p, base))

    def causes(self, p: Principal) -> list[str]:
        """The causes of the caller's alarms (the desk's filter)."""
        return self._alarms.alarm_causes(self._filter(p))

    def get(self, p: Principal, alarm_id: str) -> Alarm:
        a = self._alarms.get_alarm(alarm_id)
        if a is None or not p.may_see(a.customer_id):
            raise NotFound(f"alarm {alarm_id!r} not found")
        return a

    def of_asset(self, p: Principal, asset_id: str, limit: int = 6) -> list[Alarm]:
        """An asset's newest alarms (its page); the caller must see the asset."""
        q = AlarmQuery(asset=asset_id, size=limit)
        return self._alarms.list_alarms(self._filter(p, q), limit, 0)

    # -- people's acts -------------------------------------------------------------------------
    def acknowledge(
        self, p: Principal, alarm_id: str, note: str | None = None, at: datetime | None = None
    ) -> Alarm:
        """Someone has seen it: the owner or the manufacturer may say so."""
        a = self.get(p, alarm_id)
        if a.state in (AlarmState.active, AlarmState.silenced) or (
            a.state is AlarmState.cleared and a.acked_at is None
        ):
            a = life.acknowledge(a, as_utc(at) or utcnow(), _who(p), _note(note))
            self._alarms.update_alarms([a], utcnow())
        return a

    def acknowledge_many(
        self,
        p: Principal,
        ids: list[str] | None = None,
        q: AlarmQuery | None = None,
        note: str | None = None,
    ) -> int:
        """Acknowledge the given alarms, or every active or silenced one ``q`` selects, of those
        the caller may see; returns how many were acknowledged."""
        if ids is None and q is None:
            raise ValidationFailed("say which alarms to acknowledge", hint="send ids or a filter")
        if ids is not None:
            if not ids:
                return 0
            f = self._filter(p, q, ids=tuple(ids))
        else:
            f = self._filter(p, q)
        now = utcnow()
        return len(self._alarms.acknowledge_alarms(f, now, _who(p), _note(note), now))

    def clear(self, p: Principal, alarm_id: str, note: str | None = None) -> Alarm:
        """Clear an alarm by hand (the manufacturer's: its crews know when a fault is gone)."""
        p.require_manufacturer("customers acknowledge; the manufacturer clears")
        a = self.get(p, alarm_id)
        if a.is_open:
            a = life.clear(a, utcnow(), _who(p), _note(note))
            self._alarms.update_alarms([a], utcnow())
            self._notify([(AlarmEvent.cleared, a)])
        return a


def _who(p: Principal) -> str:
    return p.name or p.key_id


def _note(note: str | None) -> str | None:
    note = (note or "").strip()
    if len(note) > 2000:
        raise ValidationFailed("an acknowledgement note is at most 2,000 characters")
    return note or None
