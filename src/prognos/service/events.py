"""Labelled events (failures, replacements, repairs, inspections) in, lives out.

Events come from an events file (``prognos events load``), the API, or a completed work order's
finding (``workorders``); all are stored alike, as ``event`` documents, so training reads them
the same way. Storing is idempotent: an event is named by what it says (or by its own id), so
the same event twice is stored once. Lives are made from an asset's events when a model needs
them (``analytics.life_events``), so events may arrive in any order and any number of files.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from prognos.analytics.life_events import Life, lives
from prognos.domain import Asset, Principal
from prognos.domain.events import LabelledEvent
from prognos.errors import NotFound, ValidationFailed
from prognos.service.registry import RegistryService
from prognos.store.ports import DocumentsPort, Kind

OWN = "events are recorded by the manufacturer"


def event_problem(i: int | None, e: ValidationError, row: int | None = None) -> str:
    where = f"row {row}" if row is not None else (f"event {i}" if i is not None else "event")
    parts = []
    for err in e.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "event"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "enum":
            msg = (
                f"unknown kind {err.get('input')!r}: use failure, replacement, repair or inspection"
            )
        parts.append(f"{loc}: {msg}")
    return f"{where}: " + "; ".join(parts)


class EventService:
    def __init__(self, documents: DocumentsPort, registry: RegistryService):
        self._docs = documents
        self._registry = registry
        self._renewed: list[Callable[[Principal, Asset, dict[str, Any]], Any]] = []

    def on_renewal(self, listener: Callable[[Principal, Asset, dict[str, Any]], Any]) -> None:
        """Call ``listener(p, asset, event)`` after new events replaced a part of ``asset``
        (``event``: the newest of them), as a completed replacement work order does."""
        self._renewed.append(listener)

    def record(
        self, p: Principal, events: list[LabelledEvent | dict[str, Any]], source: str = "api"
    ) -> dict[str, Any]:
        """Store events (all checked first: one bad event stores none); how many were new."""
        p.require_manufacturer(OWN)
        parsed, problems = [], []
        for i, ev in enumerate(events):
            try:
                parsed.append(ev if isinstance(ev, LabelledEvent) else LabelledEvent(**ev))
            except ValidationError as e:
                problems.append(event_problem(i, e))
            except TypeError as e:
                problems.append(f"event {i}: {e}")
        snap = self._registry.snapshot()
        types = snap.types
        for i, ev in enumerate(parsed):
            if ev.asset_id not in snap.assets:
                problems.append(f"event {i}: asset {ev.asset_id!r} is not registered")
        if problems:
            raise ValidationFailed(
                f"{len(problems)} of {len(events)} events are not valid; none was stored:\n"
                + "\n".join(f"  {m}" for m in problems[:20]),
                hint="fix them and send them again (the same event twice is stored once)",
                details=problems,
            )
        stored = {aid: self._stored(aid) for aid in {ev.asset_id for ev in parsed}}
        docs = []
        for ev in parsed:
            a = snap.assets[ev.asset_id]
            unit_s = types[a.type_id].time_unit.seconds
            # ages count from the first known installation, which a replacement does not move
            origin = self.first_start(a, stored[a.id])
            at = ev.at
            if at is None:  # a cycle: the asset's age in its type's unit, as readings are placed
                at = origin + timedelta(seconds=ev.cycle * unit_s)
            doc = ev.document(at)
            doc["source"] = source
            doc["age"] = (at - origin).total_seconds() / unit_s
            docs.append((doc["id"], doc, a.customer_id, a.id, doc["kind"]))
        unique = {d[0]: d for d in docs}
        known = {d["id"]: d for evs in stored.values() for d in evs}
        new = [d for d in unique.values() if _body(known.get(d[0])) != d[1]]
        for d in new:  # what a stored event learnt when it was loaded (its life's start) stays
            if known.get(d[0], {}).get("life_start"):
                d[1]["life_start"] = known[d[0]]["life_start"]
        renewals = _renewals(snap.assets, [d[1] for d in new if d[0] not in known])
        if new:
            self._docs.put_documents(Kind.event, new)
        for a, ev, moves in renewals:
            if moves:  # the asset's own part was replaced: a new life, a new health baseline
                a = self._registry.restart_life(p, a, datetime.fromisoformat(ev["at"]))
            for listener in self._renewed:
                listener(p, a, ev)
        return {
            "stored": len(new),
            "unchanged": len(unique) - len(new),
            "ids": list(unique),
        }

    def _stored(self, asset_id: str) -> list[dict[str, Any]]:
        return self._docs.list_documents(Kind.event, asset_id=asset_id)

    def of_asset(self, p: Principal, asset_id: str) -> list[dict[str, Any]]:
        """An asset's events, oldest first (the caller must be allowed to see the asset)."""
        self._registry.asset(p, asset_id)
        return sorted(self._stored(asset_id), key=lambda d: d["at"])

    def of_type(self, p: Principal, type_id: str) -> dict[str, list[dict[str, Any]]]:
        """Every event of the assets of a type, by asset."""
        p.require_manufacturer(OWN)
        assets = {a.id for a in self._registry.snapshot().assets.values() if a.type_id == type_id}
        out: dict[str, list[dict[str, Any]]] = {}
        for d in self._docs.list_documents(Kind.event):
            if d.get("asset_id") in assets:
                out.setdefault(d["asset_id"], []).append(d)
        return out

    def first_start(self, asset: Asset, events: list[dict[str, Any]]) -> datetime:
        """When the asset's first known life began: its installation, or earlier where a
        completed work order moved ``installed_at`` on to a replacement."""
        starts = [datetime.fromisoformat(e["life_start"]) for e in events if e.get("life_start")]
        return min([asset.installed_at, *starts])

    def lives(
        self,
        p: Principal,
        type_id: str,
        *,
        until: datetime | None = None,
        from_installation: bool = True,
    ) -> list[Life]:
        """The lives of every asset of a type and its components, from their events.

        A life in progress is censored at ``until`` (default: the newest event of the type).
        ``from_installation=False`` drops each part's first life, when what was fitted before
        the first recorded event is unknown (records that begin long after installation).
        """
        by_asset = self.of_type(p, type_id)
        snap = self._registry.snapshot()
        if until is None:
            times = [datetime.fromisoformat(e["at"]) for evs in by_asset.values() for e in evs]
            until = max(times) if times else None
        out: list[Life] = []
        for aid in sorted(by_asset):
            a = snap.assets.get(aid)
            if a is None:
                raise NotFound(f"asset {aid!r} not found")
            start = self.first_start(a, by_asset[aid]) if from_installation else None
            out += lives(by_asset[aid], aid, start, until)
        return out


def _body(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored event as loading it again would make it (without what loading added)."""
    return None if doc is None else {k: v for k, v in doc.items() if k != "life_start"}


def _renewals(
    assets: dict[str, Asset], docs: list[dict[str, Any]]
) -> list[tuple[Asset, dict[str, Any], bool]]:
    """Per asset with newly stored resetting events: the newest of them, and whether it moves
    the asset's life on (an event of the asset itself, later than its installation, which
    then becomes the start of the life it ends, as a work order's finding records it)."""
    out = []
    by_asset: dict[str, list[dict[str, Any]]] = {}
    for d in docs:
        if d.get("resets_age"):
            by_asset.setdefault(d["asset_id"], []).append(d)
    for aid, evs in by_asset.items():
        a = assets[aid]
        own = [e for e in evs if not e.get("component")]
        last_own = max(own, key=lambda e: e["at"], default=None)
        moves = last_own is not None and datetime.fromisoformat(last_own["at"]) > a.installed_at
        if moves:
            last_own["life_start"] = a.installed_at.isoformat()
        out.append((a, last_own if moves else max(evs, key=lambda e: e["at"]), moves))
    return out
