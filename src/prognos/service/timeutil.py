"""Times as stored documents and drivers hand them over: ISO strings, naive or aware."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(t: Any) -> datetime | None:
    """An aware UTC datetime from a datetime, pandas Timestamp or ISO string (naive = UTC)."""
    if t is None:
        return None
    if isinstance(t, str):
        t = datetime.fromisoformat(t)
    if not isinstance(t, datetime):
        t = t.to_pydatetime()
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def as_day(v: Any) -> date | None:
    """A date from a date, datetime or ISO string."""
    if v is None or isinstance(v, date) and not isinstance(v, datetime):
        return v
    if isinstance(v, datetime):
        return v.date()
    return date.fromisoformat(str(v)[:10])
