"""Every page in both languages, as chromium draws it: screenshots of each (for a person to
look at) and the checks a person would make by eye, plus the issue's named defects."""

from __future__ import annotations

import colorsys
import re

import pytest
from page_checks import language_problems, layout_problems
from playwright.sync_api import Page, expect

from prognos.web.session import session_for

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# (who, name, url, what to wait for): every page a person can reach
PAGES = [
    (None, "login", "/login", "#key"),
    ("maker", "fleet", "/", "#rul-hist canvas"),
    ("aerolinea", "fleet-customer", "/", "#rul-hist canvas"),
    ("maker", "asset", "/assets/aerolinea-e01", "#sensors[data-ready='1']"),
    ("maker", "component", "/assets/aerolinea-e01-hpc", "#sensors[data-ready='1']"),
    ("maker", "calendar", "/calendar", "#site-calendar"),
    ("aerolinea", "calendar-customer", "/calendar", "#site-calendar"),
    ("maker", "workorders", "/workorders", "#orders"),
    ("maker", "alarms", "/alarms", "#alarms"),
    ("maker", "alarms-silenced", "/alarms?state=silenced", "#alarms"),
    ("maker", "alarms-all", "/alarms?state=all", "#alarms"),
    ("maker", "alarms-grouped", "/alarms?state=all&group=1", "#alarms"),
    ("aerolinea", "alarms-customer", "/alarms?state=all", "#alarms"),
    ("maker", "not-found", "/assets/nobody-here", ".flash.error"),
]


def open_as(page: Page, keys, who: str | None, url: str, lang: str) -> None:
    """Open ``url`` in ``lang`` with the key of ``who`` (no session when None)."""
    page.set_default_timeout(15_000)
    page.context.clear_cookies()
    if who:
        base = keys["_base_url"]
        name, value, _ = session_for(keys["_platform"], keys[who])
        page.context.add_cookies([{"name": name, "value": value, "url": base}])
    page.goto(url + ("&" if "?" in url else "?") + f"lang={lang}")


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_page_fits_its_boxes_and_speaks_one_language(page: Page, keys, screenshots, lang):
    found = {}
    for who, name, url, ready in PAGES:
        open_as(page, keys, who, url, lang)
        expect(page.locator(ready).first).to_be_attached()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(screenshots / lang / f"{name}.png"), full_page=True)
        bad = layout_problems(page) + language_problems(page, lang)
        if bad:
            found[name] = bad
    assert not found, "\n".join(f"{k}: {v}" for k, vs in found.items() for v in vs)


def test_the_fleet_reads_names_and_shows_what_the_live_dot_means(page: Page, keys):
    open_as(page, keys, "maker", "/", "en")
    row = page.locator("#fleet-table tr[data-asset='aerolinea-e01'] td")
    expect(row.nth(0).locator("a")).to_have_text("ESN-AER-001")
    expect(row.nth(0).locator("a")).to_have_attribute("title", "aerolinea-e01")
    expect(row.nth(1)).to_have_text("Aerolínea del Sur")
    expect(row.nth(2)).to_have_text("Aerolínea del Sur hangar")
    expect(row.nth(3)).to_have_text("Turbofan engine")
    expect(page.locator("#fleet-updated")).to_have_text(re.compile(r"^live: .+"))
    open_as(page, keys, "maker", "/", "zh-CN")
    expect(page.locator("#fleet-updated")).to_have_text(re.compile(r"^实时"))
    expect(row.nth(3)).to_have_text("涡扇发动机")


def test_a_customer_filters_only_by_its_own_types(page: Page, keys):
    open_as(page, keys, "aerolinea", "/", "en")
    options = page.locator("select[name=type] option").all_inner_texts()
    # no APU (owned by nobody), no HP compressor (only ever a component: the table has no row)
    assert options == ["All types", "Turbofan engine"]


def test_health_driver_labels_are_whole(page: Page, keys):
    open_as(page, keys, "maker", "/assets/aerolinea-e01", "en")
    labels = page.locator("#anomalies ul.drivers .lbl")
    expect(labels).to_have_count(3)
    for lbl in labels.all():
        assert lbl.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), lbl.inner_text()


def test_calendar_chips_name_their_assets_and_stops_differ_from_shutdowns(page: Page, keys):
    open_as(page, keys, "maker", "/calendar", "en")
    chip = page.locator("#site-calendar .job[data-order='wo-1001']")
    expect(chip).to_have_text("ESN-AER-001")
    assert chip.evaluate("e => e.scrollWidth <= e.clientWidth + 1")  # the name is not cut
    day = chip.get_attribute("data-day")
    cell = page.locator(f"#site-calendar .cal-cell[data-day='{day}']")
    assert "k-stop" in cell.get_attribute("class")
    stop, shutdown = (
        page.locator(f".legend .dot.k-{k}").evaluate(
            "e => { const s = getComputedStyle(e); return s.backgroundImage !== 'none' ? "
            "s.backgroundImage.match(/rgba?\\([^)]*\\)/)[0] : s.backgroundColor; }"
        )
        for k in ("stop", "shutdown")
    )

    def hue(css: str) -> float:
        r, g, b = (int(v) / 255 for v in re.findall(r"\d+", css)[:3])
        return colorsys.rgb_to_hsv(r, g, b)[0] * 360

    assert abs(hue(stop) - hue(shutdown)) > 60, (stop, shutdown)


def test_the_manufacturers_calendar_opens_on_a_customer_with_jobs(page: Page, keys):
    open_as(page, keys, "maker", "/calendar", "en")
    expect(page.locator("#site-calendar .job").first).to_be_visible()
    expect(page.locator("#cal-summary")).not_to_contain_text("0 jobs")


def test_chinese_acknowledge_buttons_stay_on_one_line(page: Page, keys):
    page.set_viewport_size({"width": 1024, "height": 800})
    open_as(page, keys, "maker", "/alarms", "zh-CN")
    for b in page.locator("#alarms button").all():
        box = b.bounding_box()
        assert (
            box["height"]
            < 2 * float(b.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) + 14
        )
    expect(page.locator("#alarms .sev").first).to_have_text(re.compile("严重|警告"))


def test_the_checks_catch_what_they_look_for(page: Page, keys):
    open_as(page, keys, "maker", "/", "zh-CN")
    expect(page.locator("#rul-hist canvas")).to_be_attached()
    assert language_problems(page, "zh-CN") == [] and layout_problems(page) == []
    page.evaluate(
        """() => {
        const card = document.querySelector('#fleet-charts .card');
        card.insertAdjacentHTML('beforeend', '<p>Remaining life</p>' +
          '<div id="wide" style="position: relative; left: 600px; width: 40px; height: 4px"></div>' +
          '<button id="narrow" style="width: 22px; white-space: normal">确认</button>' +
          '<button id="tight" style="width: 30px">确认告警</button>');
        }"""
    )
    assert language_problems(page, "zh-CN") == ["Remaining life"]
    found = layout_problems(page)
    assert any("div#wide" in f and "outside" in f for f in found), found
    assert any("button#narrow" in f and "wraps" in f for f in found), found
    assert any("button#tight" in f and "cut" in f for f in found), found
    open_as(page, keys, "maker", "/", "en")
    page.evaluate("document.querySelector('main h2').textContent = '设备群健康状况'")
    assert language_problems(page, "en") == ["设备群健康状况"]
