"""Importing a calendar through the API: a calendar as Google Calendar exports it is read
whole; a broken one is answered 422 with the event and the reason, never a 500."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from prognos.api import create_app
from prognos.domain.keys import MANUFACTURER

CALENDARS = Path(__file__).parent / "calendars"


@pytest.fixture
async def api(seeded):
    key, _ = seeded.keys.create(MANUFACTURER, None, "planner")
    transport = httpx.ASGITransport(app=create_app(platform=seeded), raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers={"X-API-Key": key}
    ) as client:
        yield client


async def test_a_recurring_event_with_until_in_utc_and_exdates_is_imported(api):
    r = await api.post(
        "/api/v1/sites/acme-plant/calendar.ics", content=(CALENDARS / "google.ics").read_bytes()
    )
    assert r.status_code == 200, r.text
    # 13 weeks of Mon-Fri less two EXDATEs; the monthly stop less its cancelled February
    assert r.json()["windows"] == {"shift": 63, "stop": 2, "blackout": 1}


async def test_a_broken_event_is_answered_422_naming_it(api):
    ics = (CALENDARS / "google.ics").read_text().replace("FREQ=MONTHLY", "FREQ=SOMETIMES")
    r = await api.post("/api/v1/sites/acme-plant/calendar.ics", content=ics)
    assert r.status_code == 422, r.text
    message = r.json()["error"]["message"]
    assert "'Monthly maintenance stop'" in message and "RRULE" in message
