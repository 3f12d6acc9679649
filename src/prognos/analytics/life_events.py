"""Lives from labelled events: where each life of an asset (or of one of its components) begins
and ends, and whether it ended in a failure.

A life ends at an event that resets the age (a failure or a replacement, unless it says
otherwise); events at the same moment end one life, a failure among them makes it a failure
(a failure logged together with the replacement it caused is one life, failed). The life in
progress at ``until`` (the end of what is known) is right-censored there. The first life starts
at ``first_start`` (the installation); without one it is dropped, never guessed: the age of the
part in place when records began is unknown. A life of zero length is dropped.

    for life in lives(events, first_start=installed, until=end_of_data):
        print(life.component, life.duration(86400.0), life.failed)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Life:
    """One life of an asset or component: [start, end), failed or censored at its end."""

    asset_id: str
    component: str | None
    start: datetime
    end: datetime
    failed: bool
    failure_mode: str = ""
    number: int = 0  # its place among the lives of this asset and component, from 0

    def duration(self, unit_seconds: float) -> float:
        """Length of the life in a time unit of ``unit_seconds`` seconds."""
        return (self.end - self.start).total_seconds() / unit_seconds

    @property
    def id(self) -> str:
        """``asset``, ``asset/component``, with ``#n`` for every life after the first."""
        base = self.asset_id + (f"/{self.component}" if self.component else "")
        return base if self.number == 0 else f"{base}#{self.number}"


def _time(v: Any) -> datetime:
    t = datetime.fromisoformat(v) if isinstance(v, str) else v
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _resets(ev: dict[str, Any]) -> bool:
    if ev.get("resets_age") is not None:
        return bool(ev["resets_age"])
    return ev.get("kind") in ("failure", "replacement")


def lives(
    events: Iterable[dict[str, Any]],
    asset_id: str,
    first_start: datetime | None,
    until: datetime | None,
) -> list[Life]:
    """The lives of one asset's components (``component`` None: the asset itself), oldest
    first per component; ``events`` are stored event bodies (``at``, ``kind``, ``component``)."""
    by_part: dict[str | None, dict[datetime, list[dict]]] = {}
    for ev in events:
        if not _resets(ev):
            continue
        part = by_part.setdefault(ev.get("component") or None, {})
        part.setdefault(_time(ev["at"]), []).append(ev)
    out: list[Life] = []
    for component, ends in sorted(by_part.items(), key=lambda kv: kv[0] or ""):
        out += _part_lives(asset_id, component, ends, first_start, until)
    return out


def _part_lives(asset_id, component, ends, first_start, until) -> list[Life]:
    times = sorted(ends)
    out: list[Life] = []
    start = _time(first_start) if first_start is not None else None
    for t in times:
        evs = ends[t]
        if start is not None and t > start:
            failures = [e for e in evs if e.get("kind") == "failure"]
            mode = next((e.get("failure_mode") or "" for e in failures), "")
            out.append(Life(asset_id, component, start, t, bool(failures), mode, len(out)))
        start = t if start is None or t > start else start
    if start is not None and until is not None and _time(until) > start:
        out.append(Life(asset_id, component, start, _time(until), False, "", len(out)))
    return out


def current_start(
    events: Iterable[dict[str, Any]], component: str | None, first_start: datetime
) -> datetime:
    """When the life in progress of ``component`` began: its last reset, else ``first_start``."""
    resets = [
        _time(e["at"]) for e in events if _resets(e) and (e.get("component") or None) == component
    ]
    return max([_time(first_start), *resets])
