"""The acceptance walk through the panel in Debian's chromium, writing the README's screenshots."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from panel_world import NOW
from playwright.sync_api import Page, expect

from prognos.domain import HealthScore, ReadingBatch
from prognos.domain.keys import MANUFACTURER
from prognos.web import data, pages

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def login(page: Page, key: str, lang: str = "en") -> None:
    page.set_default_timeout(10_000)
    page.goto(f"/login?lang={lang}")
    page.fill("#key", key)
    page.click("form[action='/login'] button[type=submit]")
    expect(page.locator("#fleet-table")).to_be_visible()


def test_login_rejects_a_wrong_key(page: Page, base_url, shot):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    page.fill("#key", "pk_not-a-key")
    page.click("form[action='/login'] button[type=submit]")
    expect(page.locator(".flash.error")).to_be_visible()
    page.fill("#key", "")
    shot(page, "login")


def test_customer_sees_only_its_own_assets(page: Page, keys, shot):
    login(page, keys["aerolinea"])
    rows = page.locator("#fleet-table tbody tr[data-asset]")
    expect(rows).to_have_count(4)
    assert set(rows.evaluate_all("rs => rs.map(r => r.dataset.customer)")) == {"aerolinea"}
    expect(page.locator(".who")).to_have_text("Aerolínea del Sur")
    shot(page, "fleet-customer")
    page.goto("/assets/nordjet-e01")  # another customer's engine does not exist for this key
    expect(page.locator(".flash.error")).to_contain_text("does not exist")
    expect(page.locator("main")).to_contain_text("asset 'nordjet-e01' not found")


def test_manufacturer_fleet_sorts_worst_first_and_filters(page: Page, keys, shot):
    login(page, keys["maker"])
    rows = page.locator("#fleet-table tbody tr[data-asset]")
    expect(rows).to_have_count(12)  # engines of all three customers; components sit on their page
    assert rows.first.get_attribute("data-asset").endswith("-e01")  # default sort: RUL P50 up
    shot(page, "fleet")
    page.select_option("select[name=customer]", "nordjet")
    page.click("form.filters button[type=submit]")
    expect(rows).to_have_count(4)
    assert set(rows.evaluate_all("rs => rs.map(r => r.dataset.customer)")) == {"nordjet"}


def test_asset_page_draws_sensors_and_the_forecast(page: Page, keys, shot):
    login(page, keys["maker"])
    page.click("a.asset-link[href='/assets/aerolinea-e01']")
    expect(page.locator("#asset-title")).to_have_text("ESN-AER-001")  # its name; the id in links
    expect(page.locator("#asset-title")).to_have_attribute("title", "aerolinea-e01")
    sensor = page.locator("#sensor-charts .chart.sensor").first
    expect(sensor).to_have_attribute("data-points", re.compile(r"^\d+$"))
    assert int(sensor.get_attribute("data-points")) > 50
    assert sensor.evaluate("h => h._chart.u.series.map(s => s.label)")[1:] == ["mean", "min", "max"]
    assert sensor.evaluate("h => h._chart.u.bands.length") == 1  # the min-max band
    fan = page.locator("#fan-chart")
    expect(fan).to_have_attribute("data-points", "8")  # one per stored forecast
    assert fan.evaluate("h => h._chart.u.bands.length") == 3  # P5-P95, P10-P90, P25-P75
    curve = page.locator("#curve-chart")
    expect(curve.locator("canvas")).to_be_attached()
    expect(curve.locator(".key")).to_contain_text("planned job")
    health = page.locator("#health-chart")
    expect(health).to_have_attribute("data-points", "8")  # one per stored score
    expect(health.locator(".key .zone-critical")).to_have_text("critical")
    expect(page.locator("#anomalies li").first).to_contain_text("T50")
    expect(page.locator("#live-state")).to_have_attribute("data-state", "on")
    shot(page, "asset", full_page=True)


def test_live_readings_and_forecasts_reach_the_open_asset_page(
    page: Page, keys, world, monkeypatch
):
    platform, _ = world
    monkeypatch.setattr(data, "FORECAST_POLL_S", 0.3)
    login(page, keys["aerolinea"])
    page.goto("/assets/aerolinea-e02")
    expect(page.locator("#live-state")).to_have_attribute("data-state", "on")
    expect(page.locator("#sensor-charts .chart.sensor").first).to_have_attribute(
        "data-points", re.compile(r"^\d+$")
    )
    before = page.locator("#sensors").get_attribute("data-last")
    fan = page.locator("#fan-chart")
    expect(fan).to_have_attribute("data-points", re.compile(r"^\d+$"))
    forecasts = int(fan.get_attribute("data-points"))
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    chans = np.array(["T30", "T50", "P30", "Nc"], dtype=object)
    platform.telemetry.ingest_batch(
        MANUFACTURER,
        ReadingBatch(
            np.full(4, "aerolinea-e02", dtype=object),
            chans,
            np.full(4, np.datetime64(at.replace(tzinfo=None), "us")),
            np.array([1601.0, 1420.0, 551.0, 9070.0]),
        ),
        source="test-live",
    )
    expect(page.locator("#sensors")).to_have_attribute("data-received", "4")
    expect(page.locator("#sensors")).not_to_have_attribute("data-last", before or "")
    # the server's refresher forecasts the engine from its new readings; the page shows it
    expect(fan).to_have_attribute("data-points", str(forecasts + 1), timeout=60_000)


def test_the_fleet_page_follows_new_scores_without_a_reload(page: Page, keys, world, monkeypatch):
    platform, _ = world
    monkeypatch.setattr(pages, "FLEET_POLL_S", 0.3)
    login(page, keys["nordjet"])
    expect(page.locator("#fleet-live")).to_have_attribute("data-state", "on")
    critical = page.locator("#fleet-kpis .kpi.crit b")
    before = int(critical.inner_text())
    row = page.locator("#fleet-table tr[data-asset='nordjet-e04'] .badge")
    expect(row).to_contain_text("93")
    page.evaluate("document.title = 'not reloaded'")  # gone if the page reloads
    platform.store.save_health(HealthScore("nordjet-e04", NOW + timedelta(minutes=5), 12.0))
    try:
        expect(critical).to_have_text(str(before + 1))
        expect(row).to_contain_text("12")
        assert page.title() == "not reloaded"
        assert int(page.locator("#fleet-list").get_attribute("data-refreshed")) >= 1
    finally:  # the world is shared: give the engine its score back
        platform.store.save_health(HealthScore("nordjet-e04", NOW + timedelta(minutes=6), 93.0))


def test_calendar_shows_the_job_in_the_planned_stop(page: Page, keys, shot):
    login(page, keys["aerolinea"])
    page.click("nav.main a[href='/calendar']")
    job = page.locator("#site-calendar .job[data-order='wo-1001']")
    expect(job).to_be_visible()
    day = job.get_attribute("data-day")
    assert "k-stop" in page.locator(f"#site-calendar .cal-cell[data-day='{day}']").get_attribute(
        "class"
    )
    expect(page.locator("#crew-timeline .job[data-order='wo-1001']")).to_be_visible()
    # another customer's job is in nobody's view but its own
    expect(page.locator(".job[data-order='wo-1003']")).to_have_count(0)
    shot(page, "calendar")


def test_complete_a_work_order(page: Page, keys, shot):
    login(page, keys["maker"])
    page.goto("/workorders")
    row = page.locator("tr[data-order='wo-1002']")
    expect(row).to_have_attribute("data-status", "in_progress")
    row.locator("summary").click()
    row.locator("input[name=condition]").fill("bearing scored, replaced")
    row.locator("input[name=measured_wear]").fill("0.42")
    row.locator("form.finding button[type=submit]").click()
    row = page.locator("tr[data-order='wo-1002']")
    expect(row).to_have_attribute("data-status", "done")
    expect(row.locator(".pill")).to_have_text("done")
    expect(row).to_contain_text("bearing scored, replaced")
    # the alarm raised while the crew worked (silenced) is cleared by the replacement
    page.goto("/alarms?state=all&asset=aerolinea-e02")
    cleared = page.locator("#alarms tr[data-asset='aerolinea-e02']")
    expect(cleared).to_have_attribute("data-state", "cleared")
    expect(cleared).to_contain_text("part replaced")
    page.goto("/workorders")
    # dispatch and start move along the lifecycle too
    page.locator("tr[data-order='wo-1004'] button[value=dispatch]").click()
    expect(page.locator("tr[data-order='wo-1004']")).to_have_attribute("data-status", "dispatched")
    shot(page, "workorders")


def test_alarms_acknowledge_and_silenced(page: Page, keys, shot):
    login(page, keys["maker"])
    page.goto("/alarms")
    e01 = page.locator("#alarms tr[data-asset='aerolinea-e01']")
    expect(e01).to_be_visible()
    expect(e01.locator(".cause")).to_have_text("unusual readings")
    expect(e01).to_contain_text("T50 unusual (z +4.2); health 31/100")
    expect(page.locator("#alarms tr[data-asset='aerolinea-e02']")).to_have_count(0)  # silenced
    expect(page.locator("#nav-alarms")).to_have_text("2")
    shot(page, "alarms")
    page.locator("#alarms tr[data-asset='nordjet-e01'] button[name=one]").click()
    expect(page.locator("#alarm-flash")).to_have_text("1 alarm acknowledged.")
    expect(page.locator("#alarms tr[data-asset='nordjet-e01']")).to_have_count(0)
    expect(page.locator("#nav-alarms")).to_have_text("1")
    page.goto("/alarms?state=acknowledged")
    expect(page.locator("#alarms tr[data-asset='nordjet-e01']")).to_contain_text(
        "test manufacturer"
    )
    # e02's alarm came while wo-1002 was under way: silenced, and cleared when it was done
    page.goto("/alarms?state=all&asset=aerolinea-e02")
    expect(page.locator("#alarms tr[data-asset='aerolinea-e02']")).to_contain_text("wo-1002")


def test_switch_language(page: Page, keys, shot):
    login(page, keys["maker"])
    page.click("a.lang[data-lang='zh-CN']")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("nav.main a[href='/']")).to_have_text("设备群")
    expect(page.locator("#fleet-table th").first).to_have_text("设备")
    shot(page, "fleet-zh")
    page.goto("/assets/aerolinea-e01")
    expect(page.locator("#sensors h2")).to_contain_text("传感器")
    page.click("a.lang[data-lang='en']")
    expect(page.locator("#sensors h2")).to_contain_text("Sensors")
