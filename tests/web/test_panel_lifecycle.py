"""Where each asset stands, on the panel: a state and "last seen" in every fleet row and on the
asset page (relative, with the site's local time, in both languages); retired assets out of the
fleet's numbers unless asked for; an offline asset never under a green "live" dot."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import panel_world as pw
import pytest

from prognos.domain import Asset, Site
from prognos.domain.keys import MANUFACTURER
from prognos.web.views.seen import seen

SILENT_SINCE = pw.NOW - timedelta(days=3)  # the offline engine's last reading


@pytest.fixture(scope="module")
def states(fleet):
    """This module's fleet with one engine retired and one, at a Shanghai site, offline."""
    platform, _ = fleet
    platform.lifecycle.retire(MANUFACTURER, "pacific-air-e04", pw.NOW - timedelta(days=1))
    platform.registry.add_site(
        MANUFACTURER,
        Site(id="nordjet-pvg", customer_id="nordjet", name="NordJet Pudong line station",
             region="nordjet", timezone="Asia/Shanghai"),
    )  # fmt: skip
    platform.registry.add_assets(
        MANUFACTURER,
        [
            Asset(id="nordjet-e05", customer_id="nordjet", site_id="nordjet-pvg",
                  type_id="turbofan", serial="ESN-NOR-005", model="CFM-sim 7B",
                  installed_at=pw.NOW - timedelta(days=300))
        ],
    )  # fmt: skip
    platform.telemetry.ingest_batch(
        MANUFACTURER, pw.readings("nordjet-e05", SILENT_SINCE, 48, 0.2, seed=5), source="test"
    )
    platform.lifecycle.last_seen(fresh=True)
    return platform


def row_of(html: str, asset_id: str) -> str:
    m = re.search(rf'<tr data-asset="{asset_id}".*?</tr>', html, re.S)
    assert m, f"no row for {asset_id}"
    return m.group(0)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_each_fleet_row_says_its_state_and_when_it_was_last_seen(client, fleet, states):
    client.log_in(fleet[1]["maker"])
    html = client.get("/").text
    live = row_of(html, "aerolinea-e01")
    assert 'data-state="in_service"' in live and "in service" in text(live)
    assert re.search(r"last seen (1 hour|2 hours) ago", text(live))  # its newest: NOW
    off = row_of(html, "nordjet-e05")
    assert 'data-state="offline"' in off
    assert "offline" in text(off) and "last seen 3 days ago" in text(off)
    local = SILENT_SINCE + timedelta(hours=8)  # Shanghai, UTC+8
    assert f'title="{local:%Y-%m-%d %H:%M} (Asia/Shanghai)"' in off  # the site's own clock


def test_retired_assets_leave_the_fleets_numbers_and_a_filter_brings_them_back(
    client, fleet, states
):
    client.log_in(fleet[1]["maker"])
    html = client.get("/").text
    assert 'data-asset="pacific-air-e04"' not in html
    assert re.search(r'id="kpi-assets">12<', html)  # twelve engines: one more, one retired
    assert re.search(r'id="kpi-offline".*?<b>1</b>', html, re.S)
    note = re.search(r'<p[^>]*id="retired-note">(.*?)</p>', html, re.S).group(1)
    assert "1 retired asset is left out of these numbers" in text(note)
    assert 'href="/?state=retired&amp;' in note
    retired = client.get("/?state=retired").text
    assert re.findall(r'<tr data-asset="([^"]+)"', retired) == ["pacific-air-e04"]
    assert "retired" in text(row_of(retired, "pacific-air-e04"))
    offline = client.get("/?state=offline").text
    assert re.findall(r'<tr data-asset="([^"]+)"', offline) == ["nordjet-e05"]
    every = client.get("/?state=all&size=100").text
    assert len(re.findall(r'<tr data-asset="', every)) == 13
    assert '<option value="retired" selected>' in retired  # the filter shows what is chosen
    assert client.get("/?state=sleeping").status_code == 422


def test_an_offline_asset_is_not_shown_live(client, fleet, states):
    client.log_in(fleet[1]["maker"])
    html = client.get("/assets/nordjet-e05").text
    dot = re.search(r'<span class="live" id="live-state"[^>]*>', html).group(0)
    assert 'data-lifecycle="offline"' in dot  # asset.js keeps the dot amber, never green
    local = SILENT_SINCE + timedelta(hours=8)
    assert f"offline: no reading since {local:%Y-%m-%d %H:%M} (site time)" in html
    state = re.search(r'id="asset-state">(.*?)</div>\s*</div>', html, re.S).group(1)
    assert "offline" in text(state) and "last seen 3 days ago" in text(state)
    live = client.get("/assets/aerolinea-e01").text
    assert 'data-lifecycle="in_service"' in live


def test_states_and_last_seen_read_in_chinese(client, fleet, states):
    client.log_in(fleet[1]["maker"])
    html = client.get("/?lang=zh-CN").text
    off = text(row_of(html, "nordjet-e05"))
    assert "离线" in off and "最后上报：3天前" in off
    assert "在役" in text(row_of(html, "aerolinea-e01"))
    assert "1 台已退役资产未计入这些数字" in html
    page = client.get("/assets/pacific-air-e04?lang=zh-CN").text
    assert "已退役" in page and "不再预期新读数" in page
    assert 'id="retired-note"' in page and "而非今天" in page


def test_last_seen_is_relative_to_now_and_told_in_the_sites_time():
    now = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    s = seen(now - timedelta(days=28), "Asia/Shanghai", "en", now)
    assert s["ago"] == "4 weeks ago" and s["local"] == "2026-11-04 11:00"
    assert seen(now - timedelta(hours=5), "Europe/Berlin", "zh-CN", now)["ago"] == "5小时前"
    assert seen(now + timedelta(minutes=3), None, "en", now)["ago"] == "1 second ago"
    assert seen(now, "Not/AZone", "en", now)["tz"] == "UTC"  # a zone nobody knows: UTC
    assert seen(None, "UTC", "en", now) is None


def test_scores_of_a_part_taken_out_say_so_until_the_new_part_has_its_own(client, fleet, states):
    platform = states
    a = platform.registry.asset(MANUFACTURER, "nordjet-e04")
    fitted = pw.NOW + timedelta(minutes=30)  # after its newest forecast and score, before now
    platform.registry.restart_life(MANUFACTURER, a, fitted)
    client.log_in(fleet[1]["maker"])
    row = text(row_of(client.get("/").text, "nordjet-e04"))
    assert f"of the part replaced on {fitted:%Y-%m-%d}" in row
    assert "of the part replaced" not in text(row_of(client.get("/").text, "nordjet-e03"))
    page = client.get("/assets/nordjet-e04").text
    assert f"The part was replaced on {fitted:%Y-%m-%d}: the health and remaining life" in page
    assert 'id="replaced-note"' not in client.get("/assets/nordjet-e03").text


def test_a_score_that_rounds_to_zero_reads_0_not_minus_0():
    from prognos.web.session import FILTERS

    assert FILTERS["num"](-0.0) == "0" and FILTERS["num"](-0.004, 2) == "0.00"
    assert FILTERS["num"](-3.2) == "-3" and FILTERS["num"](-1234.5) == "-1,234"


def test_an_empty_calendar_points_to_the_nearest_job(client, fleet):
    client.log_in(fleet[1]["maker"])
    ahead = client.get("/calendar?customer=nordjet&start=2020-01-06").text
    first = min(o.day for o in fleet[0].orders.list_orders(MANUFACTURER, asset_id=None)
                if o.site_id == "nordjet-hangar" and o.status.value != "cancelled")  # fmt: skip
    assert f"The next job is on {first:%Y-%m-%d}." in text(ahead)
    assert (
        f'href="/calendar?start={first - timedelta(days=7):%Y-%m-%d}&amp;customer=nordjet"' in ahead
    )
    later = client.get("/calendar?customer=nordjet&start=2040-01-02").text
    assert "No job is planned ahead; the last one was on" in text(later)
    zh = client.get("/calendar?customer=nordjet&start=2040-01-02&lang=zh-CN").text
    assert "之后没有已计划的作业" in zh
    busy = client.get(f"/calendar?customer=nordjet&start={first:%Y-%m-%d}").text
    assert 'id="cal-empty"' not in busy
