"""The panel's two languages: every message in the sources has Chinese, plurals follow each
language's rules, and every page renders without a word of the other language."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from loop_client import LoopClient
from untranslated import problems

from prognos.server import create_server_app
from prognos.web import i18n

WEB = Path(i18n.__file__).parent
PO = WEB / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po"


def source_messages() -> dict[tuple[str | None, str], tuple]:
    """(context, id) -> id as extracted, the way ``make messages`` extracts them."""
    with open(WEB / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = {}
    for _file, _line, message, _comments, context in extract_from_dir(
        str(WEB), method_map, options_map
    ):
        key = message[0] if isinstance(message, tuple) else message
        found[(context, key)] = message
    return found


def catalogue():
    with open(PO, "rb") as f:
        return read_po(f, locale="zh_CN")


def test_every_message_in_the_sources_has_a_chinese_translation():
    cat = catalogue()
    missing, fuzzy, empty = [], [], []
    for (context, key), message in source_messages().items():
        m = cat.get(key, context=context)
        if m is None:
            missing.append((context, key))
        elif m.fuzzy:
            fuzzy.append(key)
        elif not all(m.string if isinstance(m.string, tuple) else [m.string]):
            empty.append(key)
        elif isinstance(message, tuple) != isinstance(m.id, tuple):
            missing.append((context, f"{key} (plural forms)"))
    assert not missing, f"no Chinese for {missing}: run `make messages`, then translate"
    assert not fuzzy and not empty, (fuzzy, empty)


def test_the_catalogue_has_no_stale_messages_and_its_placeholders_match():
    used = set(source_messages())
    stale = [
        (m.context, m.id)
        for m in catalogue()
        if m.id and (m.context, m.id[0] if m.pluralizable else m.id) not in used
    ]
    assert not stale, f"translations of messages no source uses: {stale}"
    errors = [(m.id, [str(e) for e in errs]) for m, errs in catalogue().check() if errs]
    assert not errors


def test_plural_forms_follow_each_language():
    en, zh = i18n.translations("en"), i18n.translations("zh-CN")
    one, many = "%(num)d job scheduled in this period", "%(num)d jobs scheduled in this period"
    assert en.ngettext(one, many, 1) % {"num": 1} == "1 job scheduled in this period"
    assert en.ngettext(one, many, 3) % {"num": 3} == "3 jobs scheduled in this period"
    assert zh.ngettext(one, many, 1) % {"num": 1} == "此期间已安排 1 项作业"
    assert zh.ngettext(one, many, 3) % {"num": 3} == "此期间已安排 3 项作业"


def test_data_words_are_translated_where_the_platform_wrote_them():
    zh = i18n.translations("zh-CN")
    assert i18n.time_unit("cycles", zh) == "循环" and i18n.unit_label("degC", zh) == "°C"
    assert i18n.unit_label("s", zh) == "秒" and i18n.unit_label("mm/s", zh) == "mm/s"
    assert i18n.severity("critical", zh) == "严重"
    assert i18n.alarm_message("T50 unusual (z +4.2); health 31/100", zh) == (
        '<span translate="no">T50</span> 异常（z +4.2）；健康度 31/100'
    )
    assert i18n.alarm_message("door jammed, see log", zh) == "door jammed, see log"  # people's


def test_the_shipped_asset_types_have_chinese_names():
    import pandas as pd

    from prognos.demo.turbofans import SENSORS, SETTINGS, turbofan_type
    from prognos.sim.live import CHAIN_TYPE, ELEVATOR_TYPE

    zh = i18n.translations("zh-CN")
    turbofan = turbofan_type([pd.DataFrame({c: [1.0] for c in (*SETTINGS, *SENSORS)})], None)
    for t in (ELEVATOR_TYPE, CHAIN_TYPE, turbofan):
        assert t.name in i18n.SHIPPED_TYPE_NAMES, t.name
        assert i18n.type_name(t.name, zh) != t.name


class _Text(HTMLParser):
    """Visible text and readable attributes of a page, outside translate="no" and lang=... ."""

    SKIP = {"script", "style", "title"}
    VOID = {"input", "br", "img", "meta", "link", "hr", "source", "wbr"}

    def __init__(self, lang: str):
        super().__init__()
        self.lang, self.stack, self.texts = lang, [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        off = tag in self.SKIP or a.get("translate") == "no"
        off = off or (a.get("lang") not in (None, self.lang) and tag != "html")
        hidden = bool(self.stack and self.stack[-1])
        if not (off or hidden):
            self.texts += [a[k] for k in ("placeholder", "aria-label") if a.get(k)]
        if tag not in self.VOID:
            self.stack.append(off or hidden)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.texts.append(data)


@pytest.fixture
def fleet(world):
    """The session's seeded world (read only here)."""
    return world


PAGES = [
    ("maker", "/"),
    ("maker", "/assets/aerolinea-e01"),
    ("maker", "/assets/aerolinea-e01-hpc"),
    ("maker", "/calendar"),
    ("maker", "/workorders"),
    ("maker", "/alarms"),
    ("maker", "/alarms?state=silenced"),
    ("maker", "/alarms?state=all"),
    ("maker", "/alarms?state=all&group=1"),
    ("aerolinea", "/alarms?state=all"),
    ("maker", "/assets/nobody-here"),
    ("aerolinea", "/"),
    ("aerolinea", "/calendar"),
    ("aerolinea", "/workorders"),
    (None, "/login"),
]


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_page_speaks_one_language(fleet, lang):
    c = LoopClient(create_server_app(platform=fleet[0]))
    try:
        for who, url in PAGES:
            c.cookies.clear()
            if who:
                c.log_in(fleet[1][who])
            html = c.get(url, params={"lang": lang}).text
            parser = _Text(lang)
            parser.feed(html)
            assert not problems(parser.texts, lang), (url, problems(parser.texts, lang))
    finally:
        c.close()


def test_the_calendar_counts_jobs_in_the_right_plural(fleet):
    c = LoopClient(create_server_app(platform=fleet[0]))
    try:
        c.log_in(fleet[1]["pacific-air"])
        assert "1 job scheduled in this period" in c.get("/calendar?lang=en").text
        c.log_in(fleet[1]["aerolinea"])
        assert "2 jobs scheduled in this period" in c.get("/calendar?lang=en").text
    finally:
        c.close()
