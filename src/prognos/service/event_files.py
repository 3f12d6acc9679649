"""An events file (CSV or Parquet: one event a row) into labelled events.

The columns are found by name (``asset_id``, ``at`` or ``timestamp``, ``kind``, ``component``,
``failure_mode``, ``note``) or named by options, as for telemetry files; a file of one kind of
event (a failure log) takes ``kind`` for every row. Times without an offset are in the asset's
site's zone. The whole file is checked first: a row that cannot be read stops the load with its
row number, and nothing is stored.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from prognos.domain import Principal
from prognos.domain.events import LabelledEvent
from prognos.errors import ValidationFailed
from prognos.ingest.file_chunks import read_chunks
from prognos.service.events import EventService, event_problem
from prognos.service.file_mapping import slug
from prognos.service.file_rows import parse_times
from prognos.service.registry import RegistryService

NAMES = {
    "asset": ("asset_id", "asset", "machine_id", "machineid", "equipment", "unit"),
    "time": ("at", "ts", "timestamp", "time", "datetime", "date", "event_time", "failed_at"),
    "cycle": ("cycle",),
    "kind": ("kind", "event", "event_type", "type"),
    "component": ("component", "comp", "part"),
    "failure_mode": ("failure_mode", "mode", "failure"),
    "note": ("note", "notes", "comment", "description"),
    "id": ("id", "event_id"),
}


class EventColumns(BaseModel):
    """Which column holds what (None: found by name), and values for the whole file."""

    model_config = ConfigDict(extra="forbid")
    asset_column: str | None = None
    asset: str | None = None
    asset_prefix: str = ""
    time_column: str | None = None
    time_format: str | None = None
    timezone: str | None = None
    cycle_column: str | None = None
    kind_column: str | None = None
    kind: str | None = None
    component_column: str | None = None
    failure_mode_column: str | None = None
    note_column: str | None = None
    where: dict[str, str] = {}
    sep: str | None = None


def _find(cols: list[str], given: str | None, role: str, taken: set[str]) -> str | None:
    if given is not None:
        if given not in cols:
            close = difflib.get_close_matches(given, cols, 1, 0.5)
            raise ValidationFailed(
                f"the {role} column {given!r} is not in the file"
                + (f" (did you mean {close[0]!r}?)" if close else f" (its columns: {cols})")
            )
        return given
    by_slug = {slug(c): c for c in cols if c not in taken}
    return next((by_slug[n] for n in NAMES[role] if n in by_slug), None)


def read_events(
    registry: RegistryService, p: Principal, path: Path, o: EventColumns
) -> list[LabelledEvent]:
    """The file's rows as events, or one error naming every row that cannot be read."""
    path = Path(path)
    if not path.exists():
        raise ValidationFailed(f"{path}: no such file")
    chunks = list(read_chunks(path, 100_000, o.sep, source=path.name))
    df = pd.concat([c.frame for c in chunks], ignore_index=True)
    df.index = pd.Index([int(r) for c in chunks for r in c.rows])
    ragged = [f"row {x.index}: {x.reason}" for c in chunks for x in c.rejected]
    cols = list(df.columns)
    for col, value in o.where.items():
        if col not in cols:
            raise ValidationFailed(f"--where names a column the file does not have: {col!r}")
        df = df[df[col].astype(str).str.strip() == value]
    taken: set[str] = set()
    found: dict[str, str | None] = {}
    for role in ("asset", "time", "cycle", "kind", "component", "failure_mode", "note", "id"):
        given = getattr(o, f"{role}_column", None)
        if role == "asset" and o.asset is not None:
            continue
        if role == "cycle" and found.get("time"):
            continue
        if role == "kind" and o.kind is not None:
            continue
        found[role] = _find(cols, given, role, taken)
        taken |= {found[role]} - {None}
    if o.asset is None and not found.get("asset"):
        raise ValidationFailed(
            f"which asset? No asset column in {Path(path).name} (columns: {cols})",
            hint="name it with --asset-column (and --asset-prefix), or give --asset",
        )
    if not found.get("time") and not found.get("cycle"):
        raise ValidationFailed(
            f"when? No time or cycle column in {Path(path).name} (columns: {cols})",
            hint="name it with --time-column (and --time-format) or --cycle-column",
        )
    if o.kind is None and not found.get("kind"):
        raise ValidationFailed(
            f"which kind of event? No kind column in {Path(path).name} (columns: {cols})",
            hint="name it with --kind-column, or give one kind for every row with --kind "
            "failure|replacement|repair|inspection",
        )
    rows = df.index.to_numpy()
    if o.asset is not None:
        assets = pd.Series(o.asset, index=df.index)
    else:
        assets = o.asset_prefix + df[found["asset"]].astype(str).str.strip()
    snap = registry.snapshot()
    zones = {s.id: s.timezone for s in registry.sites(p)}

    def zone(a: str) -> str:
        x = snap.assets.get(a)
        return o.timezone or (zones.get(x.site_id, "UTC") if x else "UTC")

    problems: list[str] = list(ragged)
    times = None
    if found.get("time"):
        times, why = parse_times(df[found["time"]], o.time_format, assets.map(zone))
        for r, w in zip(rows, why, strict=True):
            if isinstance(w, str):
                problems.append(f"row {r}: {found['time']}: {w}")
    out: list[LabelledEvent] = []
    for k, r in enumerate(rows):
        rec: dict[str, Any] = {"asset_id": assets.iloc[k]}
        rec["kind"] = o.kind if o.kind is not None else df[found["kind"]].iloc[k]
        if times is not None:
            t = times.iloc[k]
            if pd.isna(t):
                continue
            rec["at"] = t.to_pydatetime()
        else:
            rec["cycle"] = df[found["cycle"]].iloc[k]
        for role in ("component", "failure_mode", "note", "id"):
            col = found.get(role)
            if col and df[col].iloc[k] is not None:
                rec[role] = str(df[col].iloc[k]).strip()
        if rec["asset_id"] not in snap.assets:
            problems.append(f"row {r}: asset {rec['asset_id']!r} is not registered")
            continue
        try:
            out.append(LabelledEvent(**rec))
        except ValidationError as e:
            problems.append(event_problem(None, e, int(r)))
    if problems:
        raise ValidationFailed(
            f"{Path(path).name}: {len(problems)} row{'s' if len(problems) != 1 else ''} cannot "
            "be read; no event was stored:\n"
            + "\n".join(f"  {m}" for m in problems[:20])
            + (f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""),
            hint="fix the rows (or map the columns: docs/own-data.md) and load the file again",
            details=problems,
        )
    return out


class EventFileService:
    """Events files into labelled events (``prognos events load``)."""

    def __init__(self, events: EventService, registry: RegistryService):
        self._events = events
        self._registry = registry

    def load(self, p: Principal, path: Path, o: EventColumns | None = None) -> dict[str, Any]:
        """Read and store an events file; how many events were new, by kind."""
        p.require_manufacturer("events are recorded by the manufacturer")
        parsed = read_events(self._registry, p, path, o or EventColumns())
        res = self._events.record(p, parsed, source=f"file:{Path(path).name}")
        kinds: dict[str, int] = {}
        for e in parsed:
            kinds[e.kind.value] = kinds.get(e.kind.value, 0) + 1
        return {**res, "rows": len(parsed), "kinds": kinds}
