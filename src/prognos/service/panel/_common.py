"""What the panel's view models share: document kinds, health bands, small conversions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from prognos.service.platform import Platform

WORKORDER, CALENDAR, CREW, ALARM = "workorder", "calendar", "crew", "alarm"
PLANNED = ("scheduled", "dispatched", "in_progress")
GOOD, WATCH = 70.0, 40.0  # health score bands: good >= 70 > watch >= 40 > critical
SOON_DAYS, LATER_DAYS = 30, 90  # RUL histogram colours: fails within a month, a quarter


def band(score: float | None) -> str:
    """Health band of a 0-100 score: good, watch, critical, or unknown."""
    if score is None:
        return "unknown"
    return "good" if score >= GOOD else "watch" if score >= WATCH else "critical"


def _rows(platform: Platform, sql: str, params: list | tuple = ()) -> list[tuple]:
    # Both stores share one SQL body with a ``_rows`` helper that translates placeholders;
    # the fleet joins are one statement there instead of 10,000 objects here.
    return platform.store._rows(sql, list(params))  # type: ignore[attr-defined]


def _utc(t: Any) -> datetime | None:
    if t is None:
        return None
    if isinstance(t, str):
        t = datetime.fromisoformat(t)
    if not isinstance(t, datetime):
        t = t.to_pydatetime()
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _day(v: Any) -> date | None:
    if v is None or isinstance(v, date) and not isinstance(v, datetime):
        return v
    if isinstance(v, datetime):
        return v.date()
    return date.fromisoformat(str(v)[:10])
