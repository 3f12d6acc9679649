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


LAPTOP, PHONE = {"width": 1366, "height": 768}, {"width": 390, "height": 844}
# Names as long as a real fleet's (the demo world's "Liftwerk Building Services", "Rosenheim
# bottling plant"): this world's are short enough that any filter row would fit.
LONG_NAMES = """() => {
  for (const [list, name] of [['customer', 'Liftwerk Building Services International'],
      ['site', 'Rosenheim bottling plant, line 4 (north hall)'],
      ['type', 'Conveyor chain drive with hydraulic tensioner']])
    document.querySelector(`form.filters select[name=${list}]`)
      .insertAdjacentHTML('beforeend', `<option>${name}</option>`);
}"""
CONTROLS = """() => Array.from(document.querySelectorAll('form.filters > :is(input, select, button)'))
  .map(e => e.getBoundingClientRect()).filter(r => r.width > 0)
  .map(r => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom}))"""
# How many lines an element's text takes: the distinct tops of its text's boxes.
LINES = """el => { const r = document.createRange(); r.selectNodeContents(el);
  return new Set(Array.from(r.getClientRects()).filter(x => x.width > 0)
    .map(x => Math.round(x.top))).size; }"""

# A name in a table breaks between its words only (涡扇发动机 is one word, not five lines).
SPLIT_NAMES = (
    "() => { const lines = "
    + LINES
    + """;
  return Array.from(document.querySelectorAll('table .name, table .asset-link'))
    .filter(el => lines(el) > el.textContent.trim().split(/\\s+/).length)
    .map(el => el.textContent.trim() + ' breaks inside a word'); }"""
)


def test_the_fleet_filters_take_one_line_on_a_laptop_and_wrap_without_overlap_on_a_phone(
    page: Page, keys
):
    for lang in ("en", "zh-CN"):
        page.set_viewport_size(LAPTOP)
        open_as(page, keys, "maker", "/", lang)
        page.evaluate(LONG_NAMES)
        row = page.locator("form.filters").bounding_box()
        controls = page.evaluate(CONTROLS)
        assert len(controls) == 7  # search, customer, site, type, state, health, apply
        tallest = max(c["bottom"] - c["top"] for c in controls)
        assert row["height"] <= tallest + 1, f"{lang}: the filter row takes {row['height']} px"
        page.set_viewport_size(PHONE)
        controls = page.evaluate(CONTROLS)
        assert len({round(c["top"]) for c in controls}) > 1  # it wraps...
        for i, a in enumerate(controls):  # ...and no control lies on another
            for b in controls[i + 1 :]:
                apart = a["right"] <= b["left"] + 0.5 or b["right"] <= a["left"] + 0.5
                assert apart or a["bottom"] <= b["top"] + 0.5 or b["bottom"] <= a["top"] + 0.5


def test_work_order_ids_stay_whole_and_crews_say_where_they_work(page: Page, keys):
    for size in (LAPTOP, PHONE):
        page.set_viewport_size(size)
        open_as(page, keys, "maker", "/workorders", "en")
        cells = "#orders tbody tr > td:nth-child({})"  # order, crew, part; and the asset's name
        ids = page.locator(", ".join([*map(cells.format, (1, 5, 6)), "#orders .asset-link"]))
        assert ids.count() == 6 * 4  # of each of the six orders
        broken = [e.inner_text() for e in ids.all() if e.evaluate(LINES) != 1]
        assert not broken, f"at {size['width']} px these ids break over lines: {broken}"
    crew = page.locator("#orders tr[data-order='wo-1001'] .id", has_text="crew-south")
    expect(crew).to_have_attribute("title", re.compile(r"^aerolinea · .*Turbofan engine"))


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_on_a_phone_the_fleet_work_orders_and_alarms_fit_the_screen(page: Page, keys, lang):
    page.set_viewport_size(PHONE)
    found = {}
    for url, ready in (
        ("/", "#rul-hist canvas"),
        ("/workorders", "#orders"),
        ("/alarms", "#alarms"),
    ):
        open_as(page, keys, "maker", url, lang)
        expect(page.locator(ready).first).to_be_attached()
        if bad := layout_problems(page) + page.evaluate(SPLIT_NAMES):
            found[url] = bad
    assert not found, "\n".join(f"{k}: {v}" for k, vs in found.items() for v in vs)


# Whether a box that clips (a table that scrolls sideways) cuts an element off at its top or
# bottom: a person scrolls such a table sideways, not within its rows.
CLIPPED = """el => { const a = el.getBoundingClientRect();
  for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
    const cs = getComputedStyle(p);
    if (cs.overflowX === 'visible' && cs.overflowY === 'visible') continue;
    const b = p.getBoundingClientRect();
    if (a.top < b.top - 1 || a.bottom > b.bottom + 1)
      return p.tagName.toLowerCase() + '.' + p.className;
  }
  return null; }"""


@pytest.fixture
def running_order(world):
    """An order under way of its own (the browser tests share a world, and another one
    completes wo-1002), taken out again afterwards."""
    from prognos.domain.keys import MANUFACTURER
    from prognos.domain.planning import WorkOrder

    platform, _ = world
    base = platform.orders.get(MANUFACTURER, "wo-1001")
    o = WorkOrder(
        id="wo-1090", asset_id=base.asset_id, site_id=base.site_id, day=base.day,
        crew_id=base.crew_id, part=base.part,
    )  # fmt: skip
    for s in ("scheduled", "dispatched", "in_progress"):
        o = o.transition(s)
    platform.orders.save(MANUFACTURER, o)
    yield o.id
    platform.store.delete_document("workorder", o.id)


def test_the_complete_form_opens_whole_even_in_the_last_row(page: Page, keys, running_order):
    for size in (LAPTOP, PHONE):
        page.set_viewport_size(size)
        open_as(page, keys, "maker", "/workorders", "en")
        row = page.locator(f"#orders tr[data-order='{running_order}']")
        row.evaluate("tr => tr.parentElement.appendChild(tr)")  # the last row: most to clip
        row.locator("summary").click()
        submit = row.locator("form.finding button[type=submit]")
        expect(submit).to_be_visible()
        assert submit.evaluate(CLIPPED) is None, f"at {size['width']} px the form is cut off"
