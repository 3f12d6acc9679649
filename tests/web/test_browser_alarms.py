"""The alarm desk in chromium, in both languages: paging, filtering, grouping and bulk
acknowledgement as a person does them, with nothing drawn outside its box."""

from __future__ import annotations

import re

import pytest
from page_checks import language_problems, layout_problems
from playwright.sync_api import Page, expect

from prognos.domain.keys import MANUFACTURER
from prognos.web.session import session_for

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def open_as(page: Page, keys, who: str, url: str, lang: str) -> None:
    page.set_default_timeout(15_000)
    page.context.clear_cookies()
    name, value, _ = session_for(keys["_platform"], keys[who])
    page.context.add_cookies([{"name": name, "value": value, "url": keys["_base_url"]}])
    page.goto(url + ("&" if "?" in url else "?") + f"lang={lang}")


WORDS = {
    "en": {"next": "Next", "group": "Group by asset and cause", "critical": "critical"},
    "zh-CN": {"next": "下一页", "group": "按设备和原因分组", "critical": "严重"},
}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_desk_pages_and_filters(page: Page, keys, lang):
    w = WORDS[lang]
    open_as(page, keys, "maker", "/alarms?state=all&size=2", lang)
    body = page.locator("#alarms tbody tr[data-alarm]")
    expect(body).to_have_count(2)
    first = [r.get_attribute("data-alarm") for r in body.all()]
    pager = page.locator("#alarm-pager a[rel=next]")
    expect(pager).to_contain_text(w["next"])
    pager.click()
    expect(page.locator("#alarm-pager .pageno")).to_have_text(re.compile(r"^2 / \d+$"))
    second = [r.get_attribute("data-alarm") for r in body.all()]
    assert len(second) == 2 and not set(first) & set(second)
    assert layout_problems(page) == [] and language_problems(page, lang) == []
    # filter: critical ones only, by the form
    page.select_option("#alarm-filters select[name=severity]", "critical")
    page.locator("#alarm-filters button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"severity=critical"))
    expect(body.first).to_be_visible()
    for sev in page.locator("#alarms tbody .sev").all():
        expect(sev).to_have_text(w["critical"])
    # group by asset and cause
    page.get_by_label(w["group"]).check()
    page.locator("#alarm-filters button[type=submit]").click()
    expect(page.locator("#alarms.grouped tbody tr[data-group]").first).to_be_visible()
    assert layout_problems(page) == [] and language_problems(page, lang) == []


def test_acknowledge_all_matching_from_the_desk(page: Page, keys, world):
    platform, _ = world
    platform.alarms.report(MANUFACTURER, "pacific-air-e04", "fuel flow", "fuel flow erratic")
    platform.alarms.report(MANUFACTURER, "pacific-air-e03", "fuel flow", "fuel flow erratic")
    open_as(page, keys, "pacific-air", "/alarms?cause=fuel+flow", "en")
    rows = page.locator("#alarms tbody tr[data-alarm]")
    expect(rows).to_have_count(2)
    page.fill("#alarm-ack input[name=note]", "pumps checked")
    page.locator("#ack-matching").click()
    expect(page.locator("#alarm-flash")).to_have_text("2 alarms acknowledged.")
    expect(rows).to_have_count(0)
    page.goto("/alarms?cause=fuel+flow&state=acknowledged")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("test pacific-air")
    # the header box selects every row on the page
    platform.alarms.report(MANUFACTURER, "pacific-air-e02", "oil", "oil low")
    platform.alarms.report(MANUFACTURER, "pacific-air-e01", "oil", "oil low")
    page.goto("/alarms?cause=oil")
    page.locator("#alarms .pick-all").check()
    page.locator("#ack-selected").click()
    expect(page.locator("#alarm-flash")).to_have_text("2 alarms acknowledged.")
