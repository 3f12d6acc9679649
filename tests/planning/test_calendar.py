"""iCalendar import and the day-by-day view of a site, on calendars as Google Calendar, Outlook
and Apple Calendar export them (``calendars/*.ics``: VTIMEZONE blocks, TZID parameters, UNTIL in
UTC, EXDATE and RDATE lists, moved occurrences, all-day events), and on broken ones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from prognos.domain.planning import WindowKind
from prognos.errors import ValidationFailed
from prognos.planning import calendar
from prognos.planning.calendar import day_profile, from_ics

ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
X-WR-TIMEZONE:Europe/Berlin\r
BEGIN:VEVENT\r
UID:1\r
DTSTAMP:20260101T000000Z\r
SUMMARY:Early and late shift\r
DTSTART;TZID=Europe/Berlin:20260105T060000\r
DTEND;TZID=Europe/Berlin:20260105T220000\r
RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:2\r
DTSTAMP:20260101T000000Z\r
SUMMARY:Line 3 maintenance stop\r
DTSTART;VALUE=DATE:20260114\r
DTEND;VALUE=DATE:20260115\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:3\r
DTSTAMP:20260101T000000Z\r
SUMMARY:Audit\r
CATEGORIES:BLACKOUT\r
DTSTART;VALUE=DATE:20260117\r
DTEND;VALUE=DATE:20260118\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:4\r
DTSTAMP:20260101T000000Z\r
SUMMARY:Team lunch\r
DTSTART;VALUE=DATE:20260107\r
DTEND;VALUE=DATE:20260108\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_import_expands_recurrences_and_classifies_events():
    cal = from_ics(ICS, "s1", until=datetime(2026, 1, 19, tzinfo=UTC))
    assert cal.timezone == "Europe/Berlin"
    shifts = cal.of_kind(WindowKind.shift)
    assert len(shifts) == 10  # two weeks of Mon-Fri; the unrelated lunch is ignored
    assert shifts[0].start == datetime(2026, 1, 5, 5, tzinfo=UTC)  # 06:00 CET
    assert [w.kind for w in cal.windows if w.kind != WindowKind.shift] == ["stop", "blackout"]


def test_day_profile_reads_windows_in_local_time():
    cal = from_ics(ICS, "s1", until=datetime(2026, 1, 19, tzinfo=UTC))
    prof = day_profile(cal, date(2026, 1, 5), 14)
    assert prof.production_hours.tolist() == [16.0] * 5 + [0, 0] + [16.0, 16.0, 0, 16.0, 16.0, 0, 0]
    assert np.flatnonzero(prof.blackout).tolist() == [12]
    # windows: weekends and the stop, not the blacked-out Saturday
    assert np.flatnonzero(prof.window).tolist() == [5, 6, 9, 13]
    assert prof.usage_before().tolist()[:10] == [0, 1, 2, 3, 4, 5, 5, 5, 6, 7]


def test_garbage_is_rejected_with_the_site_named():
    with pytest.raises(ValidationFailed, match="site s9"):
        from_ics("not a calendar", "s9", until=datetime(2026, 1, 19, tzinfo=UTC))


CALENDARS = Path(__file__).parent / "calendars"
UNTIL = datetime(2026, 6, 1, tzinfo=UTC)


def export(name: str, timezone: str | None = None):
    return from_ics((CALENDARS / f"{name}.ics").read_bytes(), name, until=UNTIL, timezone=timezone)


def hours(prof, day: date) -> float:
    return float(prof.production_hours[(day - prof.start).days])


def test_google_export_until_in_utc_exdate_and_a_moved_occurrence():
    cal = export("google")
    assert cal.timezone == "Europe/Berlin"  # from X-WR-TIMEZONE
    shifts = cal.of_kind(WindowKind.shift)
    # Mon-Fri from 5 January up to UNTIL=20260403T040000Z (Friday 3 April, 06:00 CEST):
    # 13 weeks, less the two days EXDATE takes out
    assert len(shifts) == 13 * 5 - 2
    assert shifts[-1].start == datetime(2026, 4, 3, 4, tzinfo=UTC)
    prof = day_profile(cal, date(2026, 1, 5), 100)
    assert hours(prof, date(2026, 2, 2)) == hours(prof, date(2026, 2, 3)) == 0  # EXDATE
    assert hours(prof, date(2026, 1, 12)) == 12  # RECURRENCE-ID: moved to 08:00-20:00
    assert hours(prof, date(2026, 4, 6)) == 0  # after UNTIL
    # the monthly stop (first Wednesday, COUNT=3) is cancelled in February by EXDATE
    stops = [w.start.astimezone(ZoneInfo("Europe/Berlin")).date() for w in cal.of_kind("stop")]
    assert stops == [date(2026, 1, 7), date(2026, 3, 4)]
    assert (
        hours(prof, date(2026, 2, 4)) == 16
        and not prof.window[(date(2026, 2, 4) - prof.start).days]
    )
    assert hours(prof, date(2026, 1, 7)) == 0 and prof.window[2]
    assert [w.label for w in cal.of_kind("blackout")] == ["Kundenaudit"]  # CATEGORIES
    assert all("lunch" not in w.label for w in cal.windows)


def test_outlook_export_windows_zone_names_and_an_exdate_list():
    cal = export("outlook", timezone="Europe/Vienna")  # the site's zone places all-day events
    shifts = cal.of_kind(WindowKind.shift)
    assert len(shifts) == 9 * 5 - 3  # UNTIL 6 March 06:00 CET, three days in one EXDATE
    # TZID "W. Europe Standard Time", from its VTIMEZONE: 06:00 is 05:00 UTC in winter
    assert shifts[0].start == datetime(2026, 1, 5, 5, tzinfo=UTC)
    assert shifts[0].end - shifts[0].start == timedelta(hours=16)
    prof = day_profile(cal, date(2026, 1, 5), 70)
    assert [hours(prof, date(2026, 2, d)) for d in range(16, 21)] == [0, 0, 0, 0, 0]
    [shutdown] = cal.of_kind(WindowKind.shutdown)
    assert shutdown.start == datetime(2026, 2, 15, 23, tzinfo=UTC)  # midnight in Vienna
    assert shutdown.end == datetime(2026, 2, 20, 23, tzinfo=UTC)  # DTEND is exclusive
    assert [w.label for w in cal.of_kind("stop")] == ["Wartung Presse 2"]  # CATEGORIES
    assert hours(prof, date(2026, 1, 7)) == 0 and hours(prof, date(2026, 3, 9)) == 0


def test_apple_export_rdate_duration_and_a_change_to_summer_time():
    cal = export("apple")
    assert cal.timezone == "Europe/Paris"
    starts = [w.start for w in cal.of_kind(WindowKind.shift)]
    assert len(starts) == 10 + 1  # two weeks of Mon-Fri and Saturday 28 March from RDATE
    assert datetime(2026, 3, 28, 5, tzinfo=UTC) in starts
    # 06:00 local stays 06:00 local across the change on 29 March
    assert datetime(2026, 3, 27, 5, tzinfo=UTC) in starts
    assert datetime(2026, 3, 30, 4, tzinfo=UTC) in starts
    prof = day_profile(cal, date(2026, 3, 23), 14)
    assert prof.production_hours.tolist()[:13] == [8, 8, 8, 4, 8, 8, 0, 8, 8, 8, 8, 8, 0]
    assert np.flatnonzero(prof.blackout).tolist() == [8, 9]  # X-PROGNOS-KIND, two days


def event(*lines: str, uid: str = "broken-1") -> str:
    body = "\r\n".join(
        ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z", *lines, "END:VEVENT"]
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{body}\r\nEND:VCALENDAR\r\n"


START = "DTSTART;TZID=Europe/Berlin:20260105T060000"
BROKEN = {
    "an unknown frequency": (
        event(
            "SUMMARY:Shift",
            START,
            "DTEND;TZID=Europe/Berlin:20260105T220000",
            "RRULE:FREQ=SOMETIMES",
        ),
        "SOMETIMES",
    ),
    "an end before its start": (
        event("SUMMARY:Maintenance stop", START, "DTEND;TZID=Europe/Berlin:20260105T050000"),
        "before it starts",
    ),
    "an unknown kind": (
        event("SUMMARY:Coffee", "X-PROGNOS-KIND:coffee", START, "DURATION:PT1H"),
        "X-PROGNOS-KIND 'coffee'",
    ),
    "no start": (event("SUMMARY:Shift", "DTEND:20260105T220000Z"), "no DTSTART"),
    "a zone nobody defines": (
        event("SUMMARY:Shift", "DTSTART;TZID=Mars/Olympus_Mons:20260105T060000", "DURATION:PT8H"),
        "Mars/Olympus_Mons",
    ),
    "a date that is no date": (
        event("SUMMARY:Shift", "DTSTART:2026-01-05", "DURATION:PT8H"),
        "DTSTART",
    ),
}


@pytest.mark.parametrize(("ics", "reason"), BROKEN.values(), ids=BROKEN.keys())
def test_an_event_that_cannot_be_read_is_refused_by_name_and_reason(ics, reason):
    with pytest.raises(ValidationFailed) as err:
        from_ics(ics, "s7", until=UNTIL, timezone="Europe/Berlin")
    message = err.value.message
    assert "site s7" in message and "UID broken-1" in message and reason in message, message
    assert err.value.hint


def test_an_unknown_site_time_zone_is_refused():
    with pytest.raises(ValidationFailed, match="unknown time zone 'Europe/Atlantis'"):
        from_ics(ICS, "s1", until=UNTIL, timezone="Europe/Atlantis")


@pytest.mark.parametrize("name", ["google", "outlook", "apple"])
def test_the_fast_way_through_the_library_gives_what_its_public_way_gives(name, monkeypatch):
    fast = export(name, "Europe/Vienna").windows
    monkeypatch.setattr(calendar, "PUBLIC_ONLY", True)
    assert export(name, "Europe/Vienna").windows == fast
