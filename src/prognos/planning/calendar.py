"""Site calendars: import from iCalendar, and the day-by-day view the planner reasons in.

An ``.ics`` event's kind comes from ``X-PROGNOS-KIND``, else its ``CATEGORIES``, else keywords
in its ``SUMMARY`` ("shift", "stop"/"maintenance", "shutdown", "blackout"/"freeze"); events of
no kind (a team lunch) are left out. Recurrences are expanded up to ``until`` by the maintained
``recurring-ical-events`` (over ``icalendar``), which reads what calendar programs export:
``RRULE`` with ``UNTIL`` in UTC, ``EXDATE`` and ``RDATE`` lists, moved occurrences
(``RECURRENCE-ID``), ``TZID`` parameters with ``VTIMEZONE`` blocks (Outlook's Windows zone
names included), ``X-WR-TIMEZONE``. Dates without a zone (all-day events, floating times) are
read in the site's time zone. An event that cannot be read is refused by name (UID and summary)
with the reason: a calendar half imported would plan work into a stop that is not there.

The planner sees a site day by day in local time (:func:`day_profile`): how many production
hours it has (one operating day = one cycle of usage), whether it is open for maintenance
without stopping production (no production, no blackout), and whether it is blacked out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import numpy as np
import recurring_ical_events
from recurring_ical_events.errors import BadRuleStringFormat

from prognos.domain.planning import SiteCalendar, Window, WindowKind
from prognos.errors import ValidationFailed

_KEYWORDS = (
    ("blackout", WindowKind.blackout),
    ("freeze", WindowKind.blackout),
    ("shutdown", WindowKind.shutdown),
    ("shift", WindowKind.shift),
    ("stop", WindowKind.stop),
    ("maintenance", WindowKind.stop),
)
SLOTS_PER_DAY = 96  # 15-minute resolution
_EPOCH = datetime(1900, 1, 1, tzinfo=UTC)  # expand every series from its own start
_HINT = "fix the event in the calendar program and export it again"
PUBLIC_ONLY = False  # True: only the library's public API (tests compare the two ways)


class _BadEvent(ValueError):
    """An event that cannot be read, with the reason in words."""


def _kind(event: icalendar.Event) -> WindowKind | None:
    raw = event.get("X-PROGNOS-KIND")
    if raw:
        try:
            return WindowKind(str(raw).strip().lower())
        except ValueError:
            kinds = ", ".join(k.value for k in WindowKind)
            raise _BadEvent(f"X-PROGNOS-KIND {str(raw)!r} is not one of {kinds}") from None
    cats = event.get("CATEGORIES")
    words = []
    for c in cats if isinstance(cats, list) else [cats] if cats else []:
        words += [str(x).lower() for x in c.cats]
    words.append(str(event.get("SUMMARY", "")).lower())
    for text in words:
        for key, kind in _KEYWORDS:
            if key in text:
                return kind
    return None


def _as_dt(v: date | datetime, tz: ZoneInfo) -> datetime:
    if isinstance(v, datetime):
        return v.replace(tzinfo=tz) if v.tzinfo is None else v
    return datetime(v.year, v.month, v.day, tzinfo=tz)  # all-day: midnight, local


def _span(occ: icalendar.Event, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Start and end of one occurrence; RFC 5545 3.6.1: no DTEND or DURATION means one day
    for a date, an instant for a date-time."""
    start = occ.decoded("DTSTART")
    if occ.get("DTEND") is not None:
        end = occ.decoded("DTEND")
    elif occ.get("DURATION") is not None:
        end = start + occ.decoded("DURATION")
    else:
        end = start + timedelta(days=1) if not isinstance(start, datetime) else start
    return _as_dt(start, tz), _as_dt(end, tz)


def _name(event: icalendar.Event) -> str:
    summary = str(event.get("SUMMARY", "")).strip()
    uid = str(event.get("UID", "")).strip()
    return " ".join(filter(None, [repr(summary) if summary else "", f"(UID {uid})" if uid else ""]))


def _times(event: icalendar.Event):
    """(property name, TZID or None, value) of each date or time the event holds."""
    for key in ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE"):
        props = event.get(key)
        for prop in props if isinstance(props, list) else [props] if props is not None else []:
            tzid = prop.params.get("TZID")
            for v in getattr(prop, "dts", [prop]):
                yield key, tzid, v.dt


def _check(event: icalendar.Event) -> None:
    """What the expansion would pass over in silence: no start, an end before the start, a
    TZID that names no zone (icalendar reads its times as floating)."""
    if event.get("DTSTART") is None:
        raise _BadEvent("it has no DTSTART")
    for key, tzid, dt in _times(event):
        if tzid and isinstance(dt, datetime) and dt.tzinfo is None:
            raise _BadEvent(
                f"{key} names the time zone {str(tzid)!r}, which is neither a known zone "
                "nor defined in a VTIMEZONE of the calendar"
            )
    start = event.decoded("DTSTART")
    end = event.decoded("DTEND") if event.get("DTEND") is not None else None
    if end is not None and type(end) is type(start) and end < start:
        raise _BadEvent(f"it ends ({end}) before it starts ({start})")


def _series(cal: icalendar.Calendar) -> dict[str, list[icalendar.Event]]:
    """Events by UID: a recurring event and its moved occurrences (same UID) go together."""
    out: dict[str, list[icalendar.Event]] = {}
    for n, ev in enumerate(cal.walk("VEVENT")):
        out.setdefault(str(ev.get("UID") or f"#{n}"), []).append(ev)
    return out


def _windows_of(
    events: list[icalendar.Event], cal: icalendar.Calendar, tz: ZoneInfo, until: datetime
) -> list[Window]:
    """The windows of one series (one UID), expanded up to ``until``."""
    master = next((e for e in events if e.get("RECURRENCE-ID") is None), events[0])
    kind = _kind(master)
    if kind is None:
        return []
    for e in events:
        _check(e)
    one = icalendar.Calendar(dict(cal))  # the calendar's properties, this series' events
    for sub in cal.walk("VTIMEZONE"):
        one.add_component(sub)
    for e in events:
        one.add_component(e)
    label = str(master.get("SUMMARY", ""))
    windows = []
    for start, end in _occurrences(one, until, tz):
        if end > start:  # an instant holds no time to plan around
            windows.append(Window(start=start, end=end, kind=kind, label=label))
    return windows


def _occurrences(cal: icalendar.Calendar, until: datetime, tz: ZoneInfo):
    """(start, end) of every occurrence up to ``until``.

    The public ``between`` copies the whole event for each occurrence, three quarters of the
    time it takes (102 against 30 ms of CPU a site for the benchmark world's 850 days of
    shifts); the occurrences' own start and end are read where the library has them, and the
    public way is the fallback should a release rename them.
    """
    query = recurring_ical_events.of(cal)
    if PUBLIC_ONLY or not hasattr(query, "_occurrences_between"):
        return [_span(occ, tz) for occ in query.between(_EPOCH, until)]
    found = query._occurrences_between(query.to_datetime(_EPOCH), query.to_datetime(until))
    return [(_as_dt(o.start, tz), _as_dt(o.end, tz)) for o in found]


def from_ics(
    text: str | bytes, site_id: str, *, until: datetime, timezone: str | None = None
) -> SiteCalendar:
    """Parse an iCalendar document into a :class:`SiteCalendar`, expanding recurrences up to
    ``until``; ``timezone`` (else ``X-WR-TIMEZONE``, else UTC) places dates without a zone."""
    try:
        cal = icalendar.Calendar.from_ical(text)
    except ValueError as exc:
        raise ValidationFailed(
            f"calendar for site {site_id} is not valid iCalendar: {exc}", hint=_HINT
        ) from exc
    tzname = timezone or str(cal.get("X-WR-TIMEZONE", "") or "UTC")
    try:
        tz = ZoneInfo(tzname)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            f"calendar for site {site_id}: unknown time zone {tzname!r}",
            hint="give an IANA zone name such as Europe/Berlin",
        ) from None
    until = until if until.tzinfo else until.replace(tzinfo=UTC)
    windows: list[Window] = []
    for events in _series(cal).values():
        try:
            windows += _windows_of(events, cal, tz, until)
        except (ValueError, KeyError, TypeError, OverflowError) as exc:
            # _BadEvent, icalendar's and recurring-ical-events' InvalidCalendar (bad RRULE,
            # an unknown TZID), pydantic's ValidationError: all ValueErrors, named here
            why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if isinstance(exc, BadRuleStringFormat):
                why = f"its RRULE cannot be read ({why})"
            raise ValidationFailed(
                f"calendar for site {site_id}: event {_name(events[0])} cannot be read: {why}",
                hint=_HINT,
            ) from exc
    windows.sort(key=lambda w: (w.start, w.end))
    return SiteCalendar(site_id=site_id, timezone=tzname, windows=windows)


@dataclass(frozen=True)
class DayProfile:
    """A site's calendar as days from ``start`` (local dates)."""

    start: date
    production_hours: np.ndarray  # float per day
    blackout: np.ndarray  # bool per day

    @property
    def window(self) -> np.ndarray:
        """Days open for maintenance without stopping production."""
        return (self.production_hours <= 0) & ~self.blackout

    @property
    def operating(self) -> np.ndarray:
        """Days that count as one cycle of usage."""
        return self.production_hours > 0

    def usage_before(self) -> np.ndarray:
        """Cycles of usage from the start of day 0 to the start of each day."""
        return np.concatenate([[0], np.cumsum(self.operating)[:-1]]).astype(float)

    def date_of(self, day: int) -> date:
        return self.start + timedelta(days=int(day))


def _slots(
    cal: SiteCalendar, kinds: tuple[WindowKind, ...], start: date, n_days: int
) -> np.ndarray:
    tz = ZoneInfo(cal.timezone)
    origin = datetime(start.year, start.month, start.day)
    mark = np.zeros(n_days * SLOTS_PER_DAY + 1, dtype=np.int32)
    step = 86400 / SLOTS_PER_DAY
    for w in cal.of_kind(*kinds):
        a = (w.start.astimezone(tz).replace(tzinfo=None) - origin).total_seconds() / step
        b = (w.end.astimezone(tz).replace(tzinfo=None) - origin).total_seconds() / step
        lo, hi = (
            int(np.clip(np.floor(a), 0, len(mark) - 1)),
            int(np.clip(np.ceil(b), 0, len(mark) - 1)),
        )
        if hi > lo:
            mark[lo] += 1
            mark[hi] -= 1
    return (np.cumsum(mark)[:-1] > 0).reshape(n_days, SLOTS_PER_DAY)


def day_profile(cal: SiteCalendar, start: date, n_days: int) -> DayProfile:
    """Production hours and blackouts of each local day ``start .. start + n_days - 1``."""
    shift = _slots(cal, (WindowKind.shift,), start, n_days)
    stop = _slots(cal, (WindowKind.stop, WindowKind.shutdown), start, n_days)
    black = _slots(cal, (WindowKind.blackout,), start, n_days)
    prod = (shift & ~stop).sum(axis=1) * (24.0 / SLOTS_PER_DAY)
    return DayProfile(start, prod, black.any(axis=1))
