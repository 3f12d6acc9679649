"""Where an asset stands, as a person reads it: its lifecycle state and when it last reported.

"Last seen" is relative to now ("3 hours ago", "3小时前": CLDR's words through Babel, so no
catalogue entry per unit), with the site's local time beside it; an asset whose data ended
two months ago must not read as live, whatever the data clock of a replay says.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_timedelta

from prognos.web import i18n


def _zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def seen(
    last: datetime | None, tz: str | None, lang: str, now: datetime | None = None
) -> dict[str, Any] | None:
    """``{"ago", "local", "tz", "iso"}`` of a last reading (None: it never reported)."""
    if last is None:
        return None
    last = last.replace(tzinfo=UTC) if last.tzinfo is None else last
    now = now or datetime.now(UTC)
    delta = min(last - now, timedelta(seconds=-1))  # one stamped ahead of this clock: just now
    ago = format_timedelta(
        delta, add_direction=True, threshold=1.0, locale=i18n.LOCALES.get(lang) or "en"
    )
    zone = _zone(tz)
    return {
        "ago": ago,
        "local": last.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        "tz": zone.key,
        "iso": last.isoformat(),
    }


def add_seen(rows: list[dict[str, Any]], zones: dict[str, str], lang: str) -> None:
    """Give fleet rows their ``seen`` (from ``last_seen``, in their site's zone)."""
    now = datetime.now(UTC)
    for r in rows:
        r["seen"] = seen(r.get("last_seen"), zones.get(r["site_id"]), lang, now)


def mark_replaced(rows: list[dict[str, Any]], assets: dict[str, Any]) -> None:
    """``replaced_on`` (a date) in rows whose forecast was made before the asset's part was
    replaced: its health and RUL speak for the part taken out, until the new one is scored."""
    for r in rows:
        a = assets.get(r["id"])
        at = r.get("as_of")
        r["replaced_on"] = (
            a.installed_at.date()
            if a is not None and at is not None and at < a.installed_at
            else None
        )
