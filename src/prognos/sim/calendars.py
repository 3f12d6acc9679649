"""Customer production calendars as iCalendar text, and the truth of which days run.

Each site works two shifts (06:00-22:00) Monday to Friday, or Monday to Saturday, has a planned
one-day stop every 4 to 8 weeks, a two-week annual shutdown, and one or two week-long
blackouts a year (production freezes: no service work allowed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

TIMEZONES = ("Europe/Berlin", "Europe/London", "Europe/Madrid", "Europe/Warsaw", "America/Chicago")


@dataclass
class CalendarSpec:
    site_id: str
    timezone: str
    workdays: tuple[int, ...]  # weekdays with two shifts, Mon=0
    stops: list[date] = field(default_factory=list)
    shutdowns: list[tuple[date, int]] = field(default_factory=list)  # first day, days
    blackouts: list[tuple[date, int]] = field(default_factory=list)

    def truth(self, start: date, n_days: int) -> tuple[np.ndarray, np.ndarray]:
        """(operating, blackout) flags per local day: the world the simulator runs."""
        days = [start + timedelta(days=d) for d in range(n_days)]
        idle = set(self.stops)
        for first, n in self.shutdowns:
            idle |= {first + timedelta(days=k) for k in range(n)}
        black = set()
        for first, n in self.blackouts:
            black |= {first + timedelta(days=k) for k in range(n)}
        op = np.array([d.weekday() in self.workdays and d not in idle for d in days])
        return op, np.array([d in black for d in days])


def make_spec(site_id: str, start: date, n_days: int, rng: np.random.Generator) -> CalendarSpec:
    spec = CalendarSpec(
        site_id,
        TIMEZONES[int(rng.integers(len(TIMEZONES)))],
        (0, 1, 2, 3, 4) if rng.random() < 0.7 else (0, 1, 2, 3, 4, 5),
    )
    d = start + timedelta(days=int(rng.integers(7, 42)))
    end = start + timedelta(days=n_days)
    while d < end:
        while d.weekday() > 4:
            d += timedelta(days=1)
        spec.stops.append(d)
        d += timedelta(days=int(rng.integers(28, 57)))
    for year in range(start.year, end.year + 1):
        summer = rng.random() < 0.5
        first = date(year, 7, 20) if summer else date(year, 12, 21)
        first += timedelta(days=int(rng.integers(-14, 8)))
        spec.shutdowns.append((first, 14))
        for _ in range(int(rng.integers(1, 3))):
            b = date(year, 1, 1) + timedelta(days=int(rng.integers(30, 330)))
            spec.blackouts.append((b, 7))
    return spec


def _ev(uid: str, summary: str, kind: str, start: str, end: str, extra: str = "") -> list[str]:
    return [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T000000Z",
        f"SUMMARY:{summary}",
        f"X-PROGNOS-KIND:{kind}",
        f"DTSTART{start}",
        f"DTEND{end}",
        *([extra] if extra else []),
        "END:VEVENT",
    ]


def to_ics(spec: CalendarSpec, start: date) -> str:
    """The calendar as an iCalendar document, the way a customer would send it."""
    tz = f";TZID={spec.timezone}:"
    days = ",".join(("MO", "TU", "WE", "TH", "FR", "SA", "SU")[w] for w in spec.workdays)
    first = start
    while first.weekday() != 0:
        first += timedelta(days=1)
    f = first.strftime("%Y%m%d")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//prognos//sim//EN",
        f"X-WR-TIMEZONE:{spec.timezone}",
    ]
    lines += _ev(
        f"{spec.site_id}-shifts",
        "Two-shift production",
        "shift",
        f"{tz}{f}T060000",
        f"{tz}{f}T220000",
        f"RRULE:FREQ=WEEKLY;BYDAY={days}",
    )
    for n, d in enumerate(spec.stops):
        s, e = d.strftime("%Y%m%d"), (d + timedelta(days=1)).strftime("%Y%m%d")
        lines += _ev(
            f"{spec.site_id}-stop{n}",
            "Planned maintenance stop",
            "stop",
            f";VALUE=DATE:{s}",
            f";VALUE=DATE:{e}",
        )
    for kind, spans in (("shutdown", spec.shutdowns), ("blackout", spec.blackouts)):
        for n, (d, k) in enumerate(spans):
            s, e = d.strftime("%Y%m%d"), (d + timedelta(days=k)).strftime("%Y%m%d")
            label = "Annual shutdown" if kind == "shutdown" else "Production freeze (blackout)"
            lines += _ev(
                f"{spec.site_id}-{kind}{n}", label, kind, f";VALUE=DATE:{s}", f";VALUE=DATE:{e}"
            )
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"
