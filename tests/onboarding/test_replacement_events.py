"""A replacement loaded as an event (file or API) does what a completed replacement work order
does: the asset's open alarms from before it clear, and its life (age, health baseline) starts
anew; loading the file again changes nothing, and training still sees the earlier life."""

from __future__ import annotations

from datetime import timedelta

import httpx

from prognos.api import create_app
from prognos.domain.keys import MANUFACTURER
from prognos.service.event_files import EventColumns
from support import INSTALLED, seed

T0 = INSTALLED


def _alarm(platform, asset_id: str, days: float, cause: str = "vibration"):
    return platform.alarms.report(
        MANUFACTURER, asset_id, cause, "too loud", at=T0 + timedelta(days=days)
    )


def _open(platform, asset_id: str) -> list:
    return platform.store.open_alarms([asset_id])


def test_a_replacement_in_an_events_file_clears_alarms_and_starts_a_new_life(platform, tmp_path):
    seed(platform)
    _alarm(platform, "acme-p1", 10)
    _alarm(platform, "acme-p2", 10)
    f = tmp_path / "log.csv"
    f.write_text("asset_id,at,kind\nacme-p1,2025-01-20T00:00:00Z,replacement\n")
    platform.event_files.load(MANUFACTURER, f, EventColumns())
    assert _open(platform, "acme-p1") == []
    (cleared,) = platform.alarms.of_asset(MANUFACTURER, "acme-p1")
    assert cleared.cleared_by == "replacement"
    assert len(_open(platform, "acme-p2")) == 1  # another asset's alarm stays
    renewed = platform.registry.asset(MANUFACTURER, "acme-p1")
    assert renewed.installed_at == T0 + timedelta(days=19)  # 2025-01-20 UTC
    # the same file again: nothing new, nothing moved, and the first life is still known
    again = platform.event_files.load(MANUFACTURER, f, EventColumns())
    assert (again["stored"], again["unchanged"]) == (0, 1)
    lives = [x for x in platform.events.lives(MANUFACTURER, "pump") if x.asset_id == "acme-p1"]
    assert lives[0].start == T0 and lives[0].end == renewed.installed_at


async def test_a_failure_posted_to_the_api_clears_alarms_and_renews_the_asset(platform):
    seed(platform)
    _alarm(platform, "acme-p1", 10)
    key, _ = platform.keys.create(MANUFACTURER, None, "ops")
    app = create_app(platform=platform)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                 headers={"X-API-Key": key}) as c:  # fmt: skip
        # a component's replacement: the alarms clear, the asset's own life goes on
        part = {"kind": "replacement", "component": "seal", "at": "2025-01-15T00:00:00Z"}
        r = await c.post("/api/v1/assets/acme-p1/events", json=part)
        assert r.status_code == 201, r.text
        assert _open(platform, "acme-p1") == []
        assert platform.registry.asset(MANUFACTURER, "acme-p1").installed_at == T0
        _alarm(platform, "acme-p1", 20)
        _alarm(platform, "acme-p1", 40, "heat")  # raised after the failure below: it stays
        failed = {"kind": "failure", "at": "2025-01-25T00:00:00Z", "failure_mode": "seal"}
        r = await c.post("/api/v1/assets/acme-p1/events", json=failed)
        assert r.status_code == 201 and r.json()["stored"] == 1, r.text
    (still,) = _open(platform, "acme-p1")
    assert still.first_seen == T0 + timedelta(days=40)
    assert platform.registry.asset(MANUFACTURER, "acme-p1").installed_at == T0 + timedelta(days=24)


def test_an_old_replacement_moves_nothing_back(platform, tmp_path):
    """Events of a life before the asset's current one (a late import) change no age."""
    seed(platform)
    platform.events.record(
        MANUFACTURER, [{"asset_id": "acme-p1", "kind": "replacement", "at": "2025-03-01T00:00:00Z"}]
    )
    now = platform.registry.asset(MANUFACTURER, "acme-p1").installed_at
    platform.events.record(
        MANUFACTURER, [{"asset_id": "acme-p1", "kind": "failure", "at": "2025-02-01T00:00:00Z"}]
    )
    assert platform.registry.asset(MANUFACTURER, "acme-p1").installed_at == now
    starts = [x.start for x in platform.events.lives(MANUFACTURER, "pump")
              if x.asset_id == "acme-p1"]  # fmt: skip
    assert starts[0] == T0
