"""The panel's words in English and Simplified Chinese, through gettext catalogues (Babel).

Templates and scripts are written in English; those English texts are the message ids, marked
with ``_()``, ``ngettext()`` (plural forms) and ``pgettext()`` (a context, where one English
word has two meanings). The Chinese lives in
``locale/zh_CN/LC_MESSAGES/messages.po``; it is compiled in memory when first needed, so there
is no ``.mo`` to go stale. ``make messages`` re-extracts the ids and merges them into the
``.po``; ``tests/web/test_i18n.py`` fails on any id without a Chinese text.

Names people gave things (customers, sites, channels, free-text findings) are not translated;
asset-type names are, when the catalogue knows them (the shipped types'), and units are shown
as symbols (``degC`` as ``°C``) or translated words (``hours``).
"""

from __future__ import annotations

import re
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.dates import get_day_names
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import pass_context
from markupsafe import Markup

LANGS = {"en": "English", "zh-CN": "简体中文"}
DEFAULT = "en"
LOCALES = {"en": None, "zh-CN": "zh_CN"}  # babel's name of each catalogue; English is the source
LOCALE_DIR = Path(__file__).parent / "locale"


@cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalogue of ``lang`` (English: the ids themselves, with English plurals)."""
    locale = LOCALES.get(lang)
    if locale is None:
        return NullTranslations()
    with open(LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f, locale=locale)
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


@cache
def weekdays(lang: str) -> list[str]:
    """Narrow weekday names, Monday first, from the CLDR data Babel ships (M T W ..., 一 二 三 ...)."""
    names = get_day_names("narrow", locale=LOCALES.get(lang) or "en")
    return [names[i] for i in range(7)]


def pick(requested: str | None, cookie: str | None) -> str:
    """The language a request asks for: query parameter, then cookie, then English."""
    for cand in (requested, cookie):
        if cand in LANGS:
            return cand
    return DEFAULT


# -- Jinja: the i18n extension's callables read the request's catalogue from the context ---------
@pass_context
def _gettext(ctx, message: str) -> str:
    return ctx["i18n"].gettext(message)


@pass_context
def _ngettext(ctx, singular: str, plural: str, n: int) -> str:
    return ctx["i18n"].ngettext(singular, plural, n)


@pass_context
def _pgettext(ctx, context: str, message: str) -> str:
    return ctx["i18n"].pgettext(context, message)


@pass_context
def _npgettext(ctx, context: str, singular: str, plural: str, n: int) -> str:
    return ctx["i18n"].npgettext(context, singular, plural, n)


def install(env) -> None:
    """Give a Jinja environment gettext, ngettext, pgettext and ``_`` (newstyle: escaped,
    with ``%(name)s`` placeholders filled from keyword arguments)."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True, pgettext=_pgettext, npgettext=_npgettext
    )
    for name, fn in (
        ("unit", unit_label),
        ("time_unit", time_unit),
        ("type_name", type_name),
        ("severity", severity),
        ("alarm_message", alarm_message),
    ):
        env.filters[name] = _with_catalogue(fn)


def _with_catalogue(fn):
    """A template filter calling ``fn(value, catalogue of the request)``."""

    @pass_context
    def f(ctx, value):
        return fn(value, ctx["i18n"])

    return f


# -- words that come from data ---------------------------------------------------------------------
# Literal calls, so that extraction finds each word with its context ("min" the unit of time is
# not "min" the smallest value).
def _time_units(t: NullTranslations) -> dict[str, str]:
    return {
        "hours": t.pgettext("time unit", "hours"),
        "days": t.pgettext("time unit", "days"),
        "cycles": t.pgettext("time unit", "cycles"),
    }


def _unit_words(t: NullTranslations) -> dict[str, str]:
    return {
        "s": t.pgettext("unit", "s"),
        "h": t.pgettext("unit", "h"),
        "min": t.pgettext("unit", "min"),
        "rpm": t.pgettext("unit", "rpm"),
    }


def _severities(t: NullTranslations) -> dict[str, str]:
    return {
        "critical": t.pgettext("severity", "critical"),
        "warning": t.pgettext("severity", "warning"),
        "info": t.pgettext("severity", "info"),
    }


def _shipped_types(t: NullTranslations) -> list[str]:
    """The asset types the platform ships (the demo's and the simulators'); others keep the
    name their owner gave them."""
    return [
        t.pgettext("asset type", "Passenger elevator (car door drive)"),
        t.pgettext("asset type", "Industrial drive chain (conveyor)"),
        t.pgettext("asset type", "Turbofan engine (C-MAPSS)"),
        t.pgettext("asset type", "Turbofan engine"),
    ]


TIME_UNITS = tuple(_time_units(NullTranslations()))
SHIPPED_TYPE_NAMES = tuple(_shipped_types(NullTranslations()))
# Symbols are international and shown as they are; these are written the way people write them.
UNIT_SYMBOLS = {"degC": "°C", "degF": "°F", "degR": "°R", "deg": "°", "degK": "K"}


def time_unit(unit: Any, t: NullTranslations) -> str:
    """A forecast's unit of life, in words: hours, days, cycles."""
    u = str(getattr(unit, "value", unit) or "")
    return _time_units(t).get(u, u)


def unit_label(unit: str | None, t: NullTranslations) -> str:
    """A sensor unit as a reader writes it: ``degC`` as ``°C``, ``s`` as 秒 in Chinese."""
    u = unit or ""
    return UNIT_SYMBOLS.get(u) or _unit_words(t).get(u, u)


def type_name(name: str | None, t: NullTranslations) -> str:
    """An asset type's name, translated where the catalogue has it (the shipped types)."""
    return t.pgettext("asset type", name) if name else ""


def severity(level: str | None, t: NullTranslations) -> str:
    s = level or ""
    return _severities(t).get(s, s)


# What the z-score rule writes (and the health alarm wrote before it); other messages are
# people's own words.
_HEALTH_ALARM = re.compile(
    r"^(?P<channel>[A-Za-z0-9_.-]+) unusual \(z (?P<z>[+-]?[\d.]+)\); health (?P<score>\d+)/100$"
)


def alarm_message(message: str | None, t: NullTranslations) -> str:
    """An alarm's message in the reader's language where the platform wrote it (HTML: the
    channel's tag is marked as a name); other messages are returned as they are."""
    m = _HEALTH_ALARM.match(message or "")
    if m is None:
        return message or ""
    parts = m.groupdict()
    parts["channel"] = Markup('<span translate="no">%s</span>') % parts["channel"]
    return Markup(t.gettext("%(channel)s unusual (z %(z)s); health %(score)s/100")) % parts


def js_strings(lang: str) -> dict[str, Any]:
    """The words the page scripts draw (charts, live status, exports)."""
    t = translations(lang)
    _ = t.gettext
    return {
        "lang": lang,
        "updated": _("updated"),
        "job_marker": _("planned job"),
        "no_data": _("No readings in this time range."),
        "no_forecast": _("No forecast yet for this asset."),
        "no_health": _("No health scores yet: train a health model for this type."),
        "time_utc": _("time (UTC)"),
        "csv": _("CSV"),
        "png": _("PNG"),
        "csv_help": _("Download the chart's data as CSV"),
        "png_help": _("Download the chart as a PNG image"),
        "valid_range": _("valid range"),
        "failure_limit": _("failure limit"),
        "min": _("min"),
        "max": _("max"),
        "mean": _("mean"),
        "median": _("median"),
        "health": _("health"),
        "health_axis": _("health score"),
        "probability": _("probability of failure"),
        "assets_axis": _("assets"),
        "days_axis": _("RUL P50 (days)"),
        "rul_axis": {u: _("RUL (%(unit)s)") % {"unit": time_unit(u, t)} for u in TIME_UNITS},
        "ahead_axis": {
            u: _("%(unit)s from the forecast") % {"unit": time_unit(u, t)} for u in TIME_UNITS
        },
        "units": {u: time_unit(u, t) for u in TIME_UNITS},
        "zone": {"good": _("good"), "watch": _("watch"), "critical": _("critical")},
        "band_names": {
            "p05_p95": _("P5–P95"),
            "p10_p90": _("P10–P90"),
            "p25_p75": _("P25–P75"),
        },
        "zoom_help": _("Drag across a chart to zoom; double-click to zoom out."),
        "bt_forecast": _("forecast remaining life"),
        "bt_truth": _("true remaining life"),
    }
