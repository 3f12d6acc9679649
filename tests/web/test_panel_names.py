"""What a person reads on the panel, in process: names instead of ids, the types a customer
owns, units and limits of channels, the newest reading, zoomed windows, the calendar's chips."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import panel_world as pw
import pytest
from panel_world import new_order

from prognos.domain.keys import MANUFACTURER
from prognos.service.fleet import FleetQuery
from prognos.web.views import Names
from prognos.web.views import asset as asset_views
from prognos.web.views import calendar as calendar_views


def test_the_fleet_rows_carry_names_and_ids_stay_in_links(client, fleet, platform):
    page = platform.fleet.page(MANUFACTURER, FleetQuery())
    rows = {r["id"]: r for r in Names(platform, MANUFACTURER).name_rows(page.rows)}
    e01 = rows["aerolinea-e01"]
    assert (e01["name"], e01["customer_name"], e01["site_name"], e01["type_name"]) == (
        "ESN-AER-001",
        "Aerolínea del Sur",
        "Aerolínea del Sur hangar",
        "Turbofan engine",
    )
    client.log_in(fleet[1]["maker"])
    html = client.get("/").text
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)
    text = " ".join(re.sub(r"<[^>]+>", " ", c) for c in cells)
    for an_id in ("aerolinea-hangar", "aerolinea-e01", "turbofan", "nordjet"):
        assert not re.search(rf"(?<![\w-]){re.escape(an_id)}(?![\w-])", text), an_id
    assert 'href="/assets/aerolinea-e01" title="aerolinea-e01"' in html  # the id: link, tooltip


def test_a_customer_filters_by_the_types_it_owns_only(platform, aerolinea):
    """The type filter offers what the table can show: types of the caller's top-level assets
    (not "apu", registered and owned by nobody; not "hp-compressor", only ever a component)."""
    types = {t for t, _ in platform.fleet.filter_options(aerolinea)["types"]}
    assert types == {"turbofan"}
    everyone = {t for t, _ in platform.fleet.filter_options(MANUFACTURER)["types"]}
    assert "turbofan" in everyone and not everyone & {"apu", "hp-compressor"}


def test_the_asset_view_names_units_limits_and_peers(platform, aerolinea):
    v = asset_views.asset_view(platform, aerolinea, "aerolinea-e01")
    assert v["name"] == "ESN-AER-001"
    info = {c["name"]: c for c in v["channel_info"]}
    assert info["T50"] == {
        "name": "T50",
        "unit": "degR",
        "min": 1300,
        "max": 1500,
        "description": "",
        "failure": 1440.0,
    }
    assert info["T30"]["failure"] is None
    assert [b["id"] for b in v["peers"]] == ["aerolinea-e02", "aerolinea-e03", "aerolinea-e04"]


def test_the_telemetry_headline_is_the_newest_reading_not_a_bucket_mean(client, fleet, platform):
    client.log_in(fleet[1]["maker"])
    d = client.get("/panel/data/assets/aerolinea-e03/telemetry?channels=T50&max_points=20").json()
    raw = platform.store.read_telemetry("aerolinea-e03", ["T50"])
    newest = raw.iloc[-1]
    assert d["latest"]["T50"]["value"] == pytest.approx(newest["value"])
    assert datetime.fromisoformat(d["latest"]["T50"]["ts"]) == newest["ts"].to_pydatetime()
    assert d["channels"]["T50"]["mean"][-1] != pytest.approx(newest["value"], abs=1e-9)


def test_a_zoomed_window_is_fetched_at_full_resolution(client, fleet):
    client.log_in(fleet[1]["maker"])
    lo, hi = pw.NOW - timedelta(hours=30), pw.NOW - timedelta(hours=6)
    d = client.get(
        "/panel/data/assets/aerolinea-e01/telemetry",
        params={"channels": "T30", "start": lo.isoformat(), "end": hi.isoformat()},
    ).json()
    ts = [datetime.fromisoformat(t) for t in d["channels"]["T30"]["ts"]]
    assert d["range"] == "custom" and len(ts) == 25  # hourly readings: one a bucket
    assert lo <= ts[0] and ts[-1] <= hi


def test_the_manufacturers_calendar_opens_where_the_jobs_are(platform):
    far = pw.TODAY + timedelta(days=200)
    far -= timedelta(days=far.weekday())
    new_order(platform, "wo-far", asset="nordjet-e04", day=far + timedelta(days=2))
    cal = calendar_views.calendar_view(platform, MANUFACTURER, None, far, 14)
    assert cal["customers"][0].id == "aerolinea" and cal["customer_id"] == "nordjet"
    (chip,) = cal["sites"][0]["chips"]
    assert chip["label"] == "ESN-NOR-004" and chip["col"] == 2 and chip["span"] >= 3
    empty = calendar_views.calendar_view(platform, MANUFACTURER, None, far + timedelta(days=70), 14)
    assert empty["customer_id"] == "aerolinea"  # nobody has jobs: the first


def test_calendar_chips_share_a_lane_only_when_they_do_not_overlap(platform, aerolinea):
    cal = calendar_views.calendar_view(platform, MANUFACTURER, "aerolinea")
    chips = cal["sites"][0]["chips"] + [c for r in cal["crews"] for c in r["chips"]]
    for row in [cal["sites"][0]] + cal["crews"]:
        by_lane: dict[int, list] = {}
        for c in row["chips"]:
            by_lane.setdefault(c["lane"], []).append((c["col"], c["col"] + c["span"]))
        for spans in by_lane.values():
            spans.sort()
            assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    assert chips and all(c["label"].startswith("ESN-") for c in chips)
