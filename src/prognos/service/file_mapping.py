"""How a telemetry file's columns map to assets, times and channels.

A file from the field seldom has prognos' column names. A ``FileMapping`` (options of
``prognos ingest file`` or a YAML file) says which column holds the asset (or that the whole
file is one asset), which holds the time (with its format and time zone) or the cycle, which
columns are which channels (with their units) and which to ignore. ``resolve`` checks it
against the file's header and the registry before a single reading is stored: a column that is
no channel of the asset type stops the load with the fix, instead of 140,000 rejected readings
in the quarantine. Columns whose name matches a channel except for case, blanks or punctuation
(``Bearing 1`` for ``bearing_1``) map to it by themselves.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from prognos.domain import AssetType, Registry
from prognos.errors import ValidationFailed

TIME_NAMES = ("ts", "timestamp", "time", "datetime", "date", "date_time")
ASSET_NAMES = ("asset_id", "asset")


class ColumnMap(BaseModel):
    """One file column as a channel: its name in the registry and the unit of its values."""

    model_config = ConfigDict(extra="forbid")
    channel: str | None = Field(None, description="Registered channel (default: matched by name).")
    unit: str | None = Field(None, description="Unit of the values in the file.")
    scale: float = Field(1.0, description="Stored value = file value * scale + offset.")
    offset: float = 0.0


class FileMapping(BaseModel):
    """The mapping of one file; every field optional, names matched when not given."""

    model_config = ConfigDict(extra="forbid")
    asset_column: str | None = Field(None, description="Column holding the asset id.")
    asset: str | None = Field(None, description="One asset for the whole file.")
    asset_prefix: str = Field("", description="Put before each value of asset_column.")
    time_column: str | None = None
    time_format: str | None = Field(
        None, description="strftime format, or epoch_s / epoch_ms (default: ISO 8601)."
    )
    timezone: str | None = Field(
        None, description="Zone of times without an offset (default: each asset's site's)."
    )
    cycle_column: str | None = None
    start: datetime | None = Field(None, description="Time of the first row (no time column).")
    interval: float | None = Field(None, description="Seconds between rows, with start.")
    channel_column: str | None = Field(None, description="Long files: the channel's column.")
    value_column: str | None = Field(None, description="Long files: the value's column.")
    channels: dict[str, str | ColumnMap] = Field(
        default_factory=dict, description="File column (or long-file channel) -> channel."
    )
    ignore: list[str] = Field(default_factory=list, description="Columns to leave out.")
    sep: str | None = Field(None, description="CSV delimiter (default: guessed).")
    header: bool = Field(True, description="False: the first line is data.")
    names: list[str] | None = Field(None, description="Column names for the file's columns.")
    decimal: str = Field(".", description="Decimal mark of the numbers ('.' or ',').")

    @classmethod
    def from_file(cls, path: Path) -> FileMapping:
        """A mapping file (YAML or JSON), with errors naming the key."""
        import yaml

        path = Path(path)
        if not path.exists():
            raise ValidationFailed(f"{path}: no such mapping file")
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
        except yaml.YAMLError as e:
            raise ValidationFailed(f"{path.name}: not valid YAML ({e})") from None
        try:
            return cls.model_validate(doc)
        except ValidationError as e:
            raise ValidationFailed(
                f"{path.name}: " + "; ".join(_mapping_problem(err) for err in e.errors()),
                hint="docs/own-data.md lists the mapping keys",
            ) from None

    def merged(self, **options: Any) -> FileMapping:
        """This mapping with command-line options on top (None leaves a key as it is)."""
        given = {k: v for k, v in options.items() if v not in (None, [], {})}
        if "channels" in given:
            given["channels"] = {**self.channels, **given["channels"]}
        if "ignore" in given:
            given["ignore"] = [*self.ignore, *given["ignore"]]
        return self.model_validate({**self.model_dump(exclude_unset=True), **given})


def _mapping_problem(err: dict) -> str:
    loc = ".".join(str(x) for x in err["loc"])
    if err["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(err["loc"][-1]), list(FileMapping.model_fields), 1)
        return f"unknown key {loc!r}" + (f" (did you mean {close[0]}?)" if close else "")
    return f"{loc}: {err['msg']}"


def slug(name: str) -> str:
    """A name compared loosely: lower case, runs of anything but letters and digits as ``_``."""
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


@dataclass
class Channel:
    channel: str
    scale: float = 1.0
    offset: float = 0.0


@dataclass
class Resolved:
    """A mapping checked against a file's header and the registry: what each column is."""

    mapping: FileMapping
    asset_column: str | None
    time_column: str | None
    cycle_column: str | None
    channel_column: str | None
    value_column: str | None
    columns: dict[str, Channel]  # wide files: column -> channel; long files: name -> channel
    ignored: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def long(self) -> bool:
        return self.channel_column is not None


def _pick(cols: list[str], given: str | None, names: tuple[str, ...], what: str) -> str | None:
    if given is not None:
        if given not in cols:
            close = difflib.get_close_matches(given, cols, 1, 0.5)
            raise ValidationFailed(
                f"the {what} column {given!r} is not in the file "
                + (f"(did you mean {close[0]!r}?)" if close else f"(its columns: {cols})"),
                hint="an empty header cell is named by its position: column_1 is the first",
            )
        return given
    by_slug = {slug(c): c for c in cols}
    return next((by_slug[n] for n in names if n in by_slug), None)


def resolve(
    mapping: FileMapping,
    cols: list[str],
    first: pd.DataFrame,
    registry: Registry,
) -> Resolved:
    """Check the mapping against the header ``cols`` and the first rows; raise with the fix."""
    m = mapping
    asset_col = None if m.asset else _pick(cols, m.asset_column, ASSET_NAMES, "asset")
    if m.asset is None and asset_col is None:
        raise ValidationFailed(
            f"which asset? The file has no asset_id column (columns: {cols})",
            hint="name the column with --asset-column, or give one asset with --asset",
        )
    time_col = cycle_col = None
    if m.start is None:
        time_col = _pick(cols, m.time_column, TIME_NAMES, "time")
        if time_col is None:
            cycle_col = _pick(cols, m.cycle_column, ("cycle",), "cycle")
        if time_col is None and cycle_col is None:
            raise ValidationFailed(
                f"when? The file has no time or cycle column (columns: {cols})",
                hint="name it with --time-column (and --time-format) or --cycle-column; a file "
                "without times takes --start and --interval; an empty header cell is column_1",
            )
    elif m.interval is None:
        raise ValidationFailed("--start needs --interval (seconds between rows)")
    chan_col = _pick(cols, m.channel_column, ("channel",), "channel")
    value_col = _pick(cols, m.value_column, ("value",), "value") if chan_col else None
    if chan_col and not value_col:
        raise ValidationFailed(f"a long file needs a value column beside {chan_col!r}")
    assets = _assets_of(m, asset_col, first, registry)
    types = {registry.types[a.type_id].id: registry.types[a.type_id] for a in assets}
    ignored = [c for c in m.ignore if c in cols]
    missing = [c for c in m.ignore if c not in cols]
    if missing:
        raise ValidationFailed(f"--ignore names columns the file does not have: {missing}")
    meta = {asset_col, time_col, cycle_col, chan_col, value_col, *ignored} - {None}
    if chan_col:
        names = sorted({str(v) for v in first[chan_col].dropna().unique()})
        wanted = list(dict.fromkeys([*m.channels, *names]))
    else:
        wanted = [c for c in cols if c not in meta]
    out = Resolved(m, asset_col, time_col, cycle_col, chan_col, value_col, {}, ignored)
    _map_channels(out, wanted, types, "channel" if chan_col else "column")
    return out


def _assets_of(m: FileMapping, asset_col, first: pd.DataFrame, registry: Registry) -> list:
    if m.asset is not None:
        a = registry.assets.get(m.asset)
        if a is None:
            raise ValidationFailed(
                f"asset {m.asset!r} is not registered", hint="register it (prognos registry load)"
            )
        return [a]
    values = [str(v).strip() for v in first[asset_col].dropna().unique()][:1000]
    ids = [m.asset_prefix + v for v in values]
    known = [registry.assets[i] for i in ids if i in registry.assets]
    if ids and not known:
        shown = ", ".join(repr(i) for i in ids[:5])
        close = difflib.get_close_matches(ids[0], list(registry.assets), 1, 0.5)
        raise ValidationFailed(
            f"none of the assets in column {asset_col!r} is registered (first: {shown})",
            hint=(f"did you mean {close[0]!r}? " if close else "")
            + "register them (prognos registry load), or put a prefix before the column's "
            "values with --asset-prefix",
        )
    return known


def _map_channels(out: Resolved, wanted: list[str], types: dict[str, AssetType], what: str):
    """Each wanted column (or long-file channel name) to a channel of the assets' types."""
    known = {c.name: c for t in types.values() for c in t.channels}
    loose = {slug(n): n for n in known}
    unknown = []
    for col in wanted:
        spec = out.mapping.channels.get(col)
        spec = ColumnMap(channel=spec) if isinstance(spec, str) else spec or ColumnMap()
        name = spec.channel or (col if col in known else loose.get(slug(col)))
        if name is None or name not in known:
            unknown.append((col, spec.channel))
            continue
        if name != col:
            out.notes.append(f"{what} {col!r} -> channel {name}")
        reg_unit = known[name].unit
        if spec.unit and reg_unit and spec.unit != reg_unit and (spec.scale, spec.offset) == (1, 0):
            raise ValidationFailed(
                f"{what} {col!r} is in {spec.unit!r} but channel {name} is registered in "
                f"{reg_unit!r}",
                hint="give scale and offset to convert (stored = value * scale + offset), "
                "or correct the unit",
            )
        out.columns[col] = Channel(name, spec.scale, spec.offset)
    seen: dict[str, str] = {}
    for col, ch in out.columns.items():
        if ch.channel in seen and not out.long:
            raise ValidationFailed(
                f"columns {seen[ch.channel]!r} and {col!r} both map to channel {ch.channel}"
            )
        seen[ch.channel] = col
    if unknown:
        raise ValidationFailed(_unknown_message(unknown, known, types, what), hint=_hint(what))


def _unknown_message(unknown, known, types, what: str) -> str:
    names = ", ".join(sorted(known)) or "none"
    lines = []
    for col, target in unknown:
        if target is not None:
            lines.append(f"  {col!r} maps to {target!r}, which is no channel of it")
            continue
        close = difflib.get_close_matches(slug(col), [slug(n) for n in known], 1, 0.6)
        near = next((n for n in known if close and slug(n) == close[0]), None)
        lines.append(f"  {col!r}" + (f" (did you mean {near}?)" if near else ""))
    kinds = ", ".join(sorted(types)) or "?"
    return (
        f"{len(unknown)} {what}{'s' if len(unknown) > 1 else ''} of the file "
        f"{'are' if len(unknown) > 1 else 'is'} no channel of asset type {kinds}; nothing "
        f"was stored:\n" + "\n".join(lines) + f"\n  (its channels: {names})"
    )


def _hint(what: str) -> str:
    if what == "column":
        return (
            "map a column with --channel 'COLUMN=channel', leave it out with --ignore COLUMN, "
            "or add the channel to the asset type (prognos registry load)"
        )
    return "rename channels with --channel 'NAME=channel' or add them to the asset type"
