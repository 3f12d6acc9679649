"""iCalendar import and the day-by-day view of a site."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from prognos.domain.planning import WindowKind
from prognos.errors import ValidationFailed
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
