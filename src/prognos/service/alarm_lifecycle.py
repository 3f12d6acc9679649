"""How conditions become alarms: one open alarm per asset and cause, updated by each occurrence.

Pure functions over ``Alarm`` objects; ``service.alarms`` reads the open alarms, calls these and
writes what changed. Each returns the notification events it caused (raised, escalated,
cleared): a silenced alarm is news only once it occurs outside a maintenance window.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from prognos.domain import Asset
from prognos.domain.alarms import Alarm, AlarmEvent, AlarmState, Condition

Silence = Callable[[str, datetime], str | None]  # (asset, when) -> why it is silenced, or None


@dataclass
class Touch:
    """More occurrences of an open alarm and nothing else: written as increments (``count +
    n``, the later ``last_seen``) that skip an alarm cleared meanwhile, so two processes
    occurring on one alarm, or one clearing it, do not undo each other."""

    id: str
    n: int
    last_seen: datetime
    touched_at: datetime
    message: str | None  # None: keep (the occurrence was milder than the alarm)
    details: dict | None
    channel: str | None
    clear_after_s: float | None


@dataclass
class Outcome:
    """What applying conditions changed: alarms to insert, alarms to rewrite (their state or
    severity moved), occurrences to add, news to send."""

    new: list[Alarm] = field(default_factory=list)
    changed: list[Alarm] = field(default_factory=list)
    touches: list[Touch] = field(default_factory=list)
    events: list[tuple[AlarmEvent, Alarm]] = field(default_factory=list)
    alarms: dict[str, Alarm] = field(default_factory=dict)  # each alarm as it is now

    def touched(self) -> list[Alarm]:
        return list(self.alarms.values())


def new_id() -> str:
    return f"al-{uuid.uuid4().hex[:12]}"


def _entry(event: str, at: datetime, **kw) -> dict:
    return {"event": event, "at": at.isoformat(), **{k: v for k, v in kw.items() if v is not None}}


def apply(
    open_alarms: dict[tuple[str, str], Alarm],
    conditions: list[Condition],
    assets: dict[str, Asset],
    silence: Silence,
    now: datetime,
) -> Outcome:
    """Fold ``conditions`` into the open alarms (keyed by asset and cause; updated in place)."""
    out = Outcome()
    fresh: set[str] = set()
    changed: dict[str, Alarm] = {}
    touches: dict[str, Touch] = {}
    for c in sorted(conditions, key=lambda c: c.at):
        a = assets.get(c.asset_id)
        if a is None:
            continue
        key = (c.asset_id, c.cause)
        old = open_alarms.get(key)
        if old is None:
            alarm = _raise(c, a, silence(c.asset_id, c.at), now)
            open_alarms[key] = alarm
            fresh.add(alarm.id)
            out.new.append(alarm)
            if alarm.state is AlarmState.active:
                out.events.append((AlarmEvent.raised, alarm))
            continue
        alarm, events = _occur(old, c, silence, now)
        open_alarms[key] = alarm
        out.events += [(e, alarm) for e in events]
        if alarm.id in fresh:
            out.new = [alarm if x.id == alarm.id else x for x in out.new]
        elif alarm.id in changed or _moved(old, alarm):
            changed[alarm.id] = alarm
            touches.pop(alarm.id, None)  # the whole row carries them
        else:
            t = touches.get(alarm.id)
            milder = c.severity.rank < alarm.severity.rank
            touches[alarm.id] = Touch(
                alarm.id,
                c.occurrences + (t.n if t else 0),
                alarm.last_seen,
                now,
                None if milder else alarm.message,
                None if milder else alarm.details,
                None if milder else alarm.channel,
                c.clear_after_s,
            )
    out.changed = list(changed.values())
    out.touches = list(touches.values())
    by_id = {a.id: a for a in open_alarms.values()}
    out.alarms = {a.id: a for a in (*out.new, *out.changed)} | {
        t.id: by_id[t.id] for t in out.touches
    }
    # the news about an alarm carries its newest state
    out.events = [(e, out.alarms.get(x.id, x)) for e, x in out.events]
    return out


def _moved(old: Alarm, new: Alarm) -> bool:
    """Whether an occurrence moved more than the counters: state, severity, silence."""
    return (old.state, old.severity, old.silenced_because) != (
        new.state,
        new.severity,
        new.silenced_because,
    )


def _raise(c: Condition, a: Asset, silenced: str | None, now: datetime) -> Alarm:
    history = [_entry("raised", c.since or c.at, severity=c.severity.value)]
    if silenced:
        history.append(_entry("silenced", c.since or c.at, reason=silenced))
    return Alarm(
        id=new_id(),
        asset_id=a.id,
        customer_id=a.customer_id,
        site_id=a.site_id,
        type_id=a.type_id,
        cause=c.cause,
        rule=c.rule,
        channel=c.channel,
        severity=c.severity,
        state=AlarmState.silenced if silenced else AlarmState.active,
        message=c.message,
        details=dict(c.details),
        first_seen=c.since or c.at,
        last_seen=c.at,
        count=c.occurrences,
        touched_at=now,
        clear_after_s=c.clear_after_s,
        silenced_because=silenced,
        history=history,
    )


def _occur(
    old: Alarm, c: Condition, silence: Silence, now: datetime
) -> tuple[Alarm, list[AlarmEvent]]:
    """One more occurrence: count, last seen, a worse severity (escalation), out of silence."""
    upd: dict = {
        "count": old.count + c.occurrences,
        "last_seen": max(old.last_seen, c.at),
        "touched_at": now,
        "clear_after_s": c.clear_after_s if c.clear_after_s is not None else old.clear_after_s,
    }
    history = list(old.history)
    events: list[AlarmEvent] = []
    if c.severity.rank >= old.severity.rank:
        upd |= {"message": c.message, "details": dict(c.details), "channel": c.channel}
    state = old.state
    if state is AlarmState.silenced and silence(c.asset_id, c.at) is None:
        state = AlarmState.active
        history.append(_entry("unsilenced", c.at))
        events.append(AlarmEvent.raised)  # its first news: it was silent until now
        upd["silenced_because"] = None
    if c.severity.rank > old.severity.rank:
        history.append(
            _entry("escalated", c.at, **{"from": old.severity.value, "to": c.severity.value})
        )
        upd |= {"severity": c.severity, "escalated_at": c.at}
        if state is AlarmState.acknowledged:  # worse than what was acknowledged: look again
            history.append(
                _entry("acknowledged", old.acked_at or c.at, by=old.acked_by, note=old.ack_note)
            )
            state = AlarmState.active
            upd |= {"acked_at": None, "acked_by": None, "ack_note": None}
        if AlarmEvent.raised not in events and state is not AlarmState.silenced:
            events.append(AlarmEvent.escalated)
    upd |= {"state": state, "history": history}
    return old.model_copy(update=upd), events


def clear(alarm: Alarm, at: datetime, by: str, note: str | None = None) -> Alarm:
    """The alarm is over: acknowledged or not, it is cleared (and stays so)."""
    return alarm.model_copy(
        update={
            "state": AlarmState.cleared,
            "cleared_at": at,
            "cleared_by": by,
            "history": [*alarm.history, _entry("cleared", at, by=by, note=note)],
        }
    )


def acknowledge(alarm: Alarm, at: datetime, by: str, note: str | None) -> Alarm:
    """Someone has seen it. A cleared alarm stays cleared; its acknowledgement is noted."""
    state = alarm.state if alarm.state is AlarmState.cleared else AlarmState.acknowledged
    return alarm.model_copy(
        update={"state": state, "acked_at": at, "acked_by": by, "ack_note": note or None}
    )


def due_to_clear(
    alarm: Alarm, now: datetime, last_reading: datetime | None, default_s: float
) -> bool:
    """Whether an alarm's condition has been away for its normal period: no occurrence arrived
    for that long (server time), and, where the asset reports, its newest reading is that much
    later than the last occurrence (its own time: a replay of history clears nothing early, and
    an asset that went silent keeps its alarms)."""
    period = alarm.clear_after_s or default_s
    if (now - alarm.touched_at).total_seconds() < period:
        return False
    return last_reading is None or (last_reading - alarm.last_seen).total_seconds() >= period


__all__ = [
    "Outcome",
    "Touch",
    "acknowledge",
    "apply",
    "clear",
    "due_to_clear",
    "new_id",
]
