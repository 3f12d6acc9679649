"""The alarm desk's view: a page (or groups) of alarms with names, the filters' options, and
alarm words in the reader's language.

The platform stores an alarm's message in English for the API, webhooks and e-mail; the panel
writes it again from the alarm's rule and details in the reader's language (``describe``), and
names causes and who cleared an alarm in words (``cause_label``, ``cleared_by``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from babel.support import NullTranslations
from jinja2 import pass_context
from markupsafe import Markup

from prognos.domain import Principal
from prognos.domain.alarms import Alarm
from prognos.service.alarm_desk import STATES, AlarmQuery
from prognos.service.platform import Platform
from prognos.web import i18n
from prognos.web.views.names import Names

TABS = ("active", "silenced", "acknowledged", "cleared", "all")


def _name(s: str) -> Markup:
    return Markup('<span translate="no">%s</span>') % s


def _num(v: Any, digits: int = 4) -> str:
    return f"{float(v):.{digits}g}"


def describe(a: Alarm, t: NullTranslations) -> str:
    """An alarm's message in the reader's language (HTML: channel names marked as names)."""
    d, ch = a.details, _name(a.channel or "")
    if a.rule == "zscore" and a.channel and a.channel in d.get("channels", {}):
        z = d["channels"][a.channel]
        return Markup(t.gettext("%(channel)s unusual (z %(z)s); health %(score)s/100")) % {
            "channel": ch,
            "z": f"{z:+.1f}",
            "score": f"{float(d.get('health', 0)):.0f}",
        }
    if a.rule == "threshold" and "value" in d:
        text = (
            t.gettext("%(channel)s at %(value)s, above %(limit)s")
            if d.get("op") == "above"
            else t.gettext("%(channel)s at %(value)s, below %(limit)s")
        )
        return Markup(text) % {"channel": ch, "value": _num(d["value"]), "limit": _num(d["limit"])}
    if a.rule == "rate" and "rate" in d:
        per = _per(t).get(d.get("per", ""), d.get("per", ""))
        return Markup(t.gettext("%(channel)s changing %(rate)s per %(per)s (limit %(limit)s)")) % {
            "channel": ch,
            "rate": f"{float(d['rate']):+.4g}",
            "per": per,
            "limit": _num(d["limit"]),
        }
    if a.rule == "probability" and "probability" in d:
        return t.gettext("Failure within %(days)s days: %(p)s%% likely") % {
            "days": f"{float(d['horizon_days']):g}",
            "p": f"{100 * float(d['probability']):.0f}",
        }
    if a.rule == "no_data" and "silent_s" in d:
        hours = float(d["silent_s"]) / 3600
        if hours >= 48:
            return t.ngettext("No readings for %(num)d day", "No readings for %(num)d days", int(hours // 24)) % {"num": int(hours // 24)}  # fmt: skip
        if hours >= 1:
            return t.ngettext("No readings for %(num)d hour", "No readings for %(num)d hours", int(hours)) % {"num": int(hours)}  # fmt: skip
        mins = max(int(float(d["silent_s"]) // 60), 1)
        return t.ngettext("No readings for %(num)d minute", "No readings for %(num)d minutes", mins) % {"num": mins}  # fmt: skip
    translated = i18n.alarm_message(a.message, t)  # older alarms: the health alarm's words
    return (
        translated
        if translated != a.message
        else Markup('<span translate="no">%s</span>') % a.message
    )


def _per(t: NullTranslations) -> dict[str, str]:
    return {
        "second": t.pgettext("rate", "second"),
        "minute": t.pgettext("rate", "minute"),
        "hour": t.pgettext("rate", "hour"),
        "day": t.pgettext("rate", "day"),
    }


def cause_label(cause: str, t: NullTranslations) -> str:
    """A cause in words: ``threshold:T50:above`` as "T50 above its limit"."""
    kind, _, rest = cause.partition(":")
    if kind == "threshold" and rest:
        channel, _, op = rest.partition(":")
        text = (
            t.gettext("%(channel)s above limit")
            if op == "above"
            else t.gettext("%(channel)s below limit")
        )
        return Markup(text) % {"channel": _name(channel)}
    if kind == "rate" and rest:
        return Markup(t.gettext("%(channel)s rate of change")) % {"channel": _name(rest)}
    if kind == "zscore":
        return t.gettext("unusual readings")
    if kind == "probability":
        days = rest.split(":")[0].removesuffix("d")
        return t.gettext("failure likely within %(days)s days") % {"days": days}
    if kind == "no_data":
        return t.gettext("no data")
    if kind == "reported":
        return t.gettext("reported")
    return _name(cause)


def cleared_by(by: str | None, t: NullTranslations) -> str:
    """Who or what cleared an alarm, in words (people's names as they are)."""
    if not by:
        return ""
    if by == "auto":
        return t.gettext("normal again")
    if by == "replacement":
        return t.gettext("part replaced")
    if by.startswith("work order "):
        return Markup(t.gettext("work order %(id)s")) % {
            "id": _name(by.removeprefix("work order "))
        }
    if by.startswith("superseded"):
        return t.gettext("superseded")
    return _name(by)


def install(env) -> None:
    """The desk's template filters, each with the request's catalogue."""
    for name, fn in (
        ("alarm_text", describe),
        ("alarm_cause", cause_label),
        ("cleared_by", cleared_by),
    ):
        env.filters[name] = _with_catalogue(fn)


def _with_catalogue(fn):
    @pass_context
    def f(ctx, value):
        return fn(value, ctx["i18n"])

    return f


# -- the desk --------------------------------------------------------------------------------------
def link(q: AlarmQuery, group: bool, **change: Any) -> str:
    params: dict[str, Any] = {
        "state": q.state,
        "severity": q.severity,
        "customer": q.customer,
        "site": q.site,
        "type": q.type,
        "cause": q.cause,
        "asset": q.asset,
        "group": "1" if group else None,
        "page": q.page,
        "size": q.size if q.size != 50 else None,
    }
    params.update(change)
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    if clean.get("page") == 1:
        del clean["page"]
    return "/alarms?" + urlencode(clean)


def desk_view(platform: Platform, p: Principal, q: AlarmQuery, group: bool) -> dict[str, Any]:
    """What the desk shows: the page (alarms or groups), counts per state, filter options."""
    alarms = platform.alarms
    names = Names(platform, p)
    counts = alarms.counts(p, q)  # by state, the other filters applied: the tabs
    counts["all"] = sum(counts.values())
    if group:
        rows, total = alarms.groups(p, q)
        items: list[Any] = rows
    else:
        items = alarms.rows(p, q)
        states = STATES[q.state or "all"]
        total = sum(counts.get(s.value, 0) for s in states) if states else counts["all"]
    types = sorted(platform.registry.asset_types(p), key=lambda t: (t.name or t.id).lower())
    chosen = {s.value for s in STATES[q.state or "all"]} or set(counts) - {"all"}
    return {
        "rows": items,
        "total": total,
        "ackable": sum(counts.get(s, 0) for s in chosen & {"active", "silenced"}),
        "pages": max(1, -(-total // q.size)),
        "counts": counts,
        "names": names,
        "options": {
            "customers": sorted(names.customers.items(), key=lambda kv: kv[1].lower()),
            "sites": sorted(names.sites.items(), key=lambda kv: kv[1].lower()),
            "types": [(t.id, t.name or t.id) for t in types],
            "causes": alarms.causes(p),
        },
    }
