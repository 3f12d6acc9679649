"""Site calendars: import from iCalendar, and the day-by-day view the planner reasons in.

An ``.ics`` event's kind comes from ``X-PROGNOS-KIND``, else its ``CATEGORIES``, else keywords
in its ``SUMMARY`` ("shift", "stop"/"maintenance", "shutdown", "blackout"/"freeze"). Recurring
events (``RRULE``) are expanded up to ``until``.

The planner sees a site day by day in local time (:func:`day_profile`): how many production
hours it has (one operating day = one cycle of usage), whether it is open for maintenance
without stopping production (no production, no blackout), and whether it is blacked out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from dateutil.rrule import rrulestr

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


def _kind(event) -> WindowKind | None:
    raw = event.get("X-PROGNOS-KIND")
    if raw:
        return WindowKind(str(raw).strip().lower())
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


def _as_dt(v, tz: ZoneInfo) -> datetime:
    if isinstance(v, datetime):
        return v.replace(tzinfo=tz) if v.tzinfo is None else v
    return datetime(v.year, v.month, v.day, tzinfo=tz)  # all-day event


def from_ics(
    text: str | bytes, site_id: str, *, until: datetime, timezone: str | None = None
) -> SiteCalendar:
    """Parse an iCalendar document into a :class:`SiteCalendar`, expanding recurrences."""
    from icalendar import Calendar

    try:
        cal = Calendar.from_ical(text)
    except ValueError as exc:
        raise ValidationFailed(
            f"calendar for site {site_id} is not valid iCalendar: {exc}"
        ) from exc
    tzname = timezone or str(cal.get("X-WR-TIMEZONE", "UTC"))
    tz = ZoneInfo(tzname)
    until = until if until.tzinfo else until.replace(tzinfo=UTC)
    windows: list[Window] = []
    for ev in cal.walk("VEVENT"):
        kind = _kind(ev)
        if kind is None:
            continue
        start = _as_dt(ev.decoded("DTSTART"), tz)
        end = _as_dt(ev.decoded("DTEND"), tz) if ev.get("DTEND") else start + ev.decoded("DURATION")
        label = str(ev.get("SUMMARY", ""))
        starts: Iterable[datetime] = [start]
        if ev.get("RRULE"):
            rule = ev["RRULE"].to_ical().decode()
            naive = start.replace(tzinfo=None)
            local_until = until.astimezone(tz).replace(tzinfo=None)
            starts = (
                s.replace(tzinfo=tz)
                for s in rrulestr(rule, dtstart=naive).between(naive, local_until, inc=True)
            )
        for s in starts:
            windows.append(Window(start=s, end=s + (end - start), kind=kind, label=label))
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
