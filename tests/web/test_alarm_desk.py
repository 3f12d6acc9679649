"""The alarm desk in process (no browser): pages, filters, groups, acknowledging one, the
selected and all matching, names instead of ids, a customer's own alarms only."""

from __future__ import annotations

import re
from datetime import timedelta

import panel_world as pw
import pytest
from loop_client import LoopClient

from prognos.domain.keys import MANUFACTURER
from prognos.server import create_server_app
from prognos.service.alarm_desk import AlarmQuery


@pytest.fixture
def desk(fleet):
    """A client of the module's fleet with more alarms: one per engine, an hour apart."""
    platform, keys = fleet
    if not platform.alarms.page(MANUFACTURER, AlarmQuery(cause="oil pressure")).total:
        for i, a in enumerate(sorted(platform.registry.snapshot().assets)):
            if "-e" in a and not a.endswith("-hpc"):
                sev = "critical" if i % 3 == 0 else "warning"
                at = pw.NOW - timedelta(days=2, hours=i)
                platform.alarms.report(MANUFACTURER, a, "oil pressure", "oil low", sev, at)
    c = LoopClient(create_server_app(platform=platform))
    yield c, keys
    c.close()


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-alarm="([^"]+)" data-asset="([^"]+)"', html)


def as_who(c, keys, who):
    c.log_in(keys[who])


def test_the_desk_pages_newest_first(desk):
    c, keys = desk
    as_who(c, keys, "maker")
    html = c.get("/alarms?state=all&cause=oil+pressure&size=5").text
    first = rows(html)
    assert len(first) == 5 and "1–5 of 12" in html and 'rel="next"' in html
    assert "Acknowledge all 12 matching" in html  # 11 active, e02's silenced (wo-1002 runs)
    assert 'id="ack-matching"' not in c.get("/alarms?state=cleared").text  # nothing to do
    second = rows(c.get("/alarms?state=all&cause=oil+pressure&size=5&page=2").text)
    assert len(second) == 5 and not {a for a, _ in first} & {a for a, _ in second}
    last = c.get("/alarms?state=all&cause=oil+pressure&size=5&page=9")  # past the end
    assert last.status_code == 303 and "page=3" in last.headers["location"]
    # newest first: the engines were reported an hour apart in id order
    assets = [a for _, a in first + second]
    assert assets == sorted(assets)


def test_filters_narrow_the_desk_and_names_stand_for_ids(desk):
    c, keys = desk
    as_who(c, keys, "maker")
    html = c.get("/alarms?cause=oil+pressure&severity=critical&customer=nordjet").text
    found = rows(html)
    assert found and {a for _, a in found} <= {
        "nordjet-e01",
        "nordjet-e02",
        "nordjet-e03",
        "nordjet-e04",
    }
    assert all('sev-critical">critical' in html for _ in found)
    assert ">ESN-NOR-001<" in html or ">ESN-NOR-00" in html  # serials, not ids, as link text
    assert "NordJet hangar" in html
    by_site = rows(c.get("/alarms?state=all&site=aerolinea-hangar").text)
    assert by_site and all(a.startswith("aerolinea-") for _, a in by_site)


def test_groups_by_asset_and_cause(desk):
    c, keys = desk
    as_who(c, keys, "maker")
    html = c.get("/alarms?state=all&group=1&asset=aerolinea-e01").text
    groups = re.findall(r'<tr data-group="([^"]+)"', html)
    assert sorted(groups) == ["aerolinea-e01|oil pressure", "aerolinea-e01|zscore"]
    assert 'href="/alarms?state=all&amp;cause=zscore&amp;asset=aerolinea-e01"' in html


def test_acknowledge_one_selected_and_all_matching(desk, fleet):
    c, keys = desk
    platform = fleet[0]
    as_who(c, keys, "maker")
    oil = platform.alarms.page(MANUFACTURER, AlarmQuery(state="active", cause="oil pressure"))
    ids = [a.id for a in oil.items]
    r = c.post(
        "/alarms/ack", data={"csrf": c.csrf, "one": ids[0], "back": "/alarms?cause=oil+pressure"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/alarms?cause=oil+pressure&done=1"
    assert "1 alarm acknowledged." in c.get(r.headers["location"]).text
    r = c.post(
        "/alarms/ack", data={"csrf": c.csrf, "id": ids[1:3], "scope": "selected", "note": "seen"}
    )
    assert r.headers["location"].endswith("done=2")
    assert platform.alarms.get(MANUFACTURER, ids[1]).ack_note == "seen"
    r = c.post(
        "/alarms/ack",
        data={
            "csrf": c.csrf,
            "scope": "matching",
            "state": "active",
            "cause": "oil pressure",
            "severity": "critical",
        },
    )
    critical = [a for a in oil.items[3:] if a.severity == "critical"]
    assert critical and r.headers["location"].endswith(f"done={len(critical)}")
    left = platform.alarms.page(MANUFACTURER, AlarmQuery(state="active", cause="oil pressure"))
    assert left.total == oil.total - 3 - len(critical)
    assert {a.severity for a in left.items} == {"warning"}


def test_a_customer_acknowledges_only_its_own_on_the_desk(desk, fleet):
    c, keys = desk
    platform = fleet[0]
    as_who(c, keys, "pacific-air")
    html = c.get("/alarms?state=all").text
    assert rows(html) and all(a.startswith("pacific-air-") for _, a in rows(html))
    assert 'name="customer"' not in html  # no customer filter for a customer
    nordjet = platform.alarms.page(MANUFACTURER, AlarmQuery(customer="nordjet", state="active"))
    r = c.post(
        "/alarms/ack",
        data={"csrf": c.csrf, "id": [a.id for a in nordjet.items], "scope": "selected"},
    )
    assert r.headers["location"].endswith("done=0")
    r = c.post("/alarms/ack", data={"csrf": c.csrf, "scope": "matching", "customer": "nordjet"})
    assert r.headers["location"].endswith("done=0")
    after = platform.alarms.page(MANUFACTURER, AlarmQuery(customer="nordjet", state="active"))
    assert after.total == nordjet.total
