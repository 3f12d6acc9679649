"""The charts as chromium draws them: inside their plots, units on the axes, readable ticks, the
newest reading in the headline, read-outs on hover, limits drawn, one time window per page that
every time chart follows (presets, zoom), several channels and assets on one chart, exports."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from panel_world import FLAT_NF
from playwright.sync_api import Page, expect
from test_browser_pages import open_as

pytestmark = [pytest.mark.browser, pytest.mark.integration]

READ = """h => {
  const u = h._chart.u, box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  return {
    yRange: JSON.parse(h.dataset.yRange || 'null'), dataRange: JSON.parse(h.dataset.dataRange || 'null'),
    xRange: [u.scales.x.min, u.scales.x.max], labels: u.axes.map(a => a.label || ''),
    ticks: u.axes.map(a => (a._values || []).map(String)), series: u.series.map(s => s.label),
    scales: [...new Set(u.series.slice(1).map(s => s.scale))],
    canvas: box(u.ctx.canvas), title: box(h.querySelector('.title')), card: box(h.closest('.card')),
    headline: (h.querySelector('.title .last') || {}).textContent || '',
    key: Array.from(h.querySelectorAll('.key span')).map(s => s.textContent), points: +h.dataset.points,
  };
}"""


def chart(page: Page, selector: str) -> dict:
    host = page.locator(selector)
    expect(host.locator("canvas")).to_be_attached()
    return host.evaluate(READ)


def asset_page(page: Page, keys, lang: str = "en", asset: str = "aerolinea-e01") -> None:
    open_as(page, keys, "maker", f"/assets/{asset}", lang)
    expect(page.locator("#sensors")).to_have_attribute("data-ready", "1")


def inside(inner: list[float], outer: list[float], tol: float = 1.0) -> bool:
    return (
        inner[0] >= outer[0] - tol
        and inner[1] >= outer[1] - tol
        and inner[2] <= outer[2] + tol
        and inner[3] <= outer[3] + tol
    )


def test_the_fan_keeps_every_quantile_inside_its_plot_and_under_its_title(page: Page, keys):
    asset_page(page, keys)
    fan = chart(page, "#fan-chart")
    assert fan["points"] == 8  # one per stored forecast
    assert fan["yRange"][0] <= fan["dataRange"][0] and fan["yRange"][1] >= fan["dataRange"][1]
    assert inside(fan["canvas"], fan["card"]) and fan["canvas"][1] >= fan["title"][3]
    assert fan["labels"][1] == "RUL (cycles)"
    assert fan["series"][-1] == "median P50"


def test_sensor_axes_carry_units_and_ticks_read_well(page: Page, keys):
    asset_page(page, keys)
    page.locator("#channel-picker label:has(input[value=Nf])").click()
    expect(page.locator("#sensor-charts .chart[data-channel=Nf] canvas")).to_be_attached()
    t50 = chart(page, "#sensor-charts .chart[data-channel=T50]")
    assert t50["labels"] == ["time (UTC)", "°R"]
    nc = chart(page, "#sensor-charts .chart[data-channel=Nc]")
    assert nc["labels"][1] == "rpm"
    flat = chart(page, "#sensor-charts .chart[data-channel=Nf]")
    assert flat["dataRange"] == [FLAT_NF, FLAT_NF]
    for c in (t50, nc, flat):  # distinct ticks, all with one number of decimals
        ticks = c["ticks"][1]
        assert len(ticks) >= 2 and len(set(ticks)) == len(ticks), ticks
        assert len({len(t.split(".")[1]) if "." in t else 0 for t in ticks}) == 1, ticks


def test_the_headline_is_the_newest_reading(page: Page, keys, world):
    asset_page(page, keys, asset="aerolinea-e04")
    raw = world[0].store.read_telemetry("aerolinea-e04", ["T30"]).iloc[-1]
    want = f"{round(raw['value']):,} °R · {raw['ts'].strftime('%Y-%m-%d %H:%M')}"
    assert chart(page, "#sensor-charts .chart[data-channel=T30]")["headline"] == want


def test_hovering_reads_the_values_under_the_cursor(page: Page, keys):
    asset_page(page, keys)
    host = page.locator("#sensor-charts .chart[data-channel=T50]")
    over = host.locator(".u-over").bounding_box()
    page.mouse.move(over["x"] + over["width"] * 0.4, over["y"] + over["height"] / 2)
    got = host.evaluate(
        """h => { const u = h._chart.u, i = u.cursor.idx;
        return { i: i, n: u.data[0].length, mean: u.data[1][i],
          text: h.querySelector('.u-legend .u-series:nth-child(2) .u-value').textContent,
          time: h.querySelector('.u-legend .u-series:nth-child(1) .u-value').textContent,
          ts: u.data[0][i] }; }"""
    )
    assert 0 < got["i"] < got["n"] - 1  # the hovered bucket, not the newest
    assert got["text"] == f"{round(got['mean']):,} °R"
    assert got["time"] == datetime.fromtimestamp(got["ts"], UTC).strftime("%Y-%m-%d %H:%M")


RED, GREY = (
    "p => p[0] > 180 && p[1] < 90 && p[2] < 90",
    "p => Math.abs(p[0] - 100) < 30 && p[2] > 110",
)


def line_colours(page: Page, selector: str, value: float, test: str) -> int:
    """How many points along the horizontal line at ``value`` have the colour ``test``."""
    return page.locator(selector).evaluate(
        """(h, a) => { const u = h._chart.u, b = u.bbox, y = Math.round(u.valToPos(a.v, 'y', true));
        const ok = eval(a.test); let n = 0;
        for (let x = b.left + 4; x < b.left + b.width - 4; x += 7)
          for (const dy of [-1, 0, 1]) { if (ok(u.ctx.getImageData(x, y + dy, 1, 1).data)) { n++; break; } }
        return n; }""",
        {"v": value, "test": test},
    )


def test_failure_limits_and_valid_ranges_are_drawn(page: Page, keys):
    asset_page(page, keys)
    t50 = chart(page, "#sensor-charts .chart[data-channel=T50]")
    assert t50["yRange"][1] >= 1440  # the failure limit is in view
    assert "failure limit 1,440 °R" in t50["key"]
    assert line_colours(page, "#sensor-charts .chart[data-channel=T50]", 1440, RED) > 20
    t30 = chart(page, "#sensor-charts .chart[data-channel=T30]")
    assert "valid range 1,400–1,620 °R" in t30["key"] and t30["yRange"][1] >= 1620
    assert line_colours(page, "#sensor-charts .chart[data-channel=T30]", 1620, GREY) > 20
    assert line_colours(page, "#sensor-charts .chart[data-channel=T30]", 1620, RED) == 0


WINDOWS = """() => Array.from(document.querySelectorAll('#sensor-charts .chart, #fan-chart, #health-chart'))
  .filter(h => h._chart).map(h => [h.dataset.channel || h.id, h._chart.u.scales.x.min, h._chart.u.scales.x.max])"""


def same_window(page: Page, condition: str = "true") -> list[float]:
    """Wait until every time chart shows one window (and ``condition`` on its [lo, hi] holds);
    the sensors refetch theirs, so they catch up a moment after the others."""
    page.wait_for_function(
        f"""() => {{ const w = ({WINDOWS})(); if (w.length < 3) return false;
        const [_, lo, hi] = w[0];
        return w.every(x => Math.abs(x[1] - lo) < 1 && Math.abs(x[2] - hi) < 1) && ({condition}); }}"""
    )
    first = page.evaluate(WINDOWS)[0]
    return [first[1], first[2]]


def test_one_time_window_that_every_time_chart_follows(page: Page, keys):
    asset_page(page, keys)
    everything = same_window(page)
    page.click("[data-range='7d']")
    week = same_window(page, "hi - lo < 8 * 86400")
    assert week[1] - week[0] == pytest.approx(7 * 86400, abs=60) and week[1] == everything[1]
    assert page.locator("#range-from").input_value() < page.locator("#range-to").input_value()
    # drag across the T50 chart: every chart zooms to the same narrower window
    over = page.locator("#sensor-charts .chart[data-channel=T50] .u-over").bounding_box()
    y = over["y"] + over["height"] / 2
    page.mouse.move(over["x"] + over["width"] * 0.3, y)
    page.mouse.down()
    page.mouse.move(over["x"] + over["width"] * 0.6, y, steps=6)
    page.mouse.up()
    expect(page.locator("#range-reset")).to_be_enabled()
    zoomed = same_window(page, f"hi - lo < {0.5 * (week[1] - week[0])}")
    assert week[0] < zoomed[0] < zoomed[1] < week[1]
    page.dblclick("#sensor-charts .chart[data-channel=T50] .u-over")  # back to everything
    expect(page.locator("#range-reset")).to_be_disabled()
    assert same_window(page, f"Math.abs(lo - {everything[0]}) < 2") == pytest.approx(
        everything, abs=2
    )


def test_several_assets_and_channels_on_one_chart(page: Page, keys):
    asset_page(page, keys)
    page.select_option("#compare-pick", "aerolinea-e02")
    expect(page.locator("#compare-list [data-compare='aerolinea-e02']")).to_have_text(
        "ESN-AER-002 ×"
    )
    page.wait_for_function(
        "() => { const h = document.querySelector('#sensor-charts .chart[data-channel=T50]');"
        " return h && h._chart && h._chart.u.series.some(s => s.label === 'ESN-AER-002'); }"
    )
    t50 = chart(page, "#sensor-charts .chart[data-channel=T50]")
    assert t50["series"][1] == "ESN-AER-001" and "ESN-AER-002" in t50["series"]
    page.click("[data-layout=overlay]")
    expect(page.locator("#sensor-charts .chart.sensor")).to_have_count(1)
    one = chart(page, "#sensor-charts .chart.sensor")
    assert {"T50 · ESN-AER-001", "T50 · ESN-AER-002", "P30 · ESN-AER-001"} <= set(one["series"])
    assert sorted(one["scales"]) == ["u:psia", "u:rpm", "u:°R"]  # one axis per unit
    assert sorted(one["labels"][1:]) == ["psia", "rpm", "°R"]


def test_charts_export_csv_and_png(page: Page, keys):
    asset_page(page, keys)
    host = page.locator("#sensor-charts .chart[data-channel=T50]")
    with page.expect_download() as dl:
        host.locator("[data-export=csv]").click()
    assert dl.value.suggested_filename.startswith("aerolinea-e01_") and "T50" in (
        dl.value.suggested_filename
    )
    lines = Path(dl.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "time_utc,mean,min,max"
    assert len(lines) - 1 == int(host.get_attribute("data-points"))
    first = lines[1].split(",")
    assert datetime.fromisoformat(first[0]) and float(first[2]) <= float(first[1]) <= float(
        first[3]
    )
    with page.expect_download() as dl:
        page.locator("#fan-chart [data-export=png]").click()
    assert Path(dl.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_fleet_histogram_counts_assets_on_a_y_axis(page: Page, keys):
    open_as(page, keys, "maker", "/", "en")
    h = chart(page, "#rul-hist")
    assert h["labels"] == ["RUL P50 (days)", "assets"]
    assert all(re.fullmatch(r"\d+", t) for t in h["ticks"][1]) and len(h["ticks"][1]) >= 2
    assert h["yRange"][1] >= h["dataRange"][1] and inside(h["canvas"], h["card"])


def test_charts_speak_chinese(page: Page, keys):
    asset_page(page, keys, lang="zh-CN")
    t50 = chart(page, "#sensor-charts .chart[data-channel=T50]")
    assert t50["labels"][0] == "时间（UTC）" and t50["series"][1:] == ["均值", "最小", "最大"]
    assert "故障限值 1,440 °R" in t50["key"]
    assert chart(page, "#fan-chart")["labels"][1] == "剩余寿命（循环）"
    assert all(re.search(r"\d+月\d+日|\d+年\d+月|\d\d:\d\d", t) for t in t50["ticks"][0])


def test_every_script_and_style_comes_from_the_app(page: Page, keys):
    seen = []
    page.on("request", lambda r: seen.append(r.url))
    asset_page(page, keys)
    base = keys["_base_url"]
    assert seen and all(u.startswith(base) or u.startswith("blob:") for u in seen), seen
    assert any(u.endswith("/static/vendor/uplot/uPlot.iife.min.js") for u in seen)
