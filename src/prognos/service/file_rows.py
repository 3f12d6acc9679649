"""A chunk of a telemetry file, mapped (``file_mapping.Resolved``), as the long table of readings.

Times are read as the mapping says (a strftime format, epoch seconds or milliseconds, or ISO
8601) and a time without an offset is taken in the asset's site's time zone, unless the mapping
names one: an export from a plant in Berlin says 08:00 and means 07:00 UTC in winter. A time in
the hour a daylight-saving change skips or repeats cannot be placed and is rejected with that
reason. Every rejected row keeps its row number in the file.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from prognos.domain import Rejection
from prognos.ingest.file_chunks import Chunk
from prognos.ingest.records import from_frame
from prognos.ingest.shape import LONG_COLUMNS, show
from prognos.service.file_mapping import Channel, Resolved

ZoneOf = Callable[[str], str]
_OFFSET = r"(?:Z|[+-]\d\d:?\d\d)$"
_UNITS = {"epoch_s": "s", "epoch_ms": "ms", "epoch_us": "us"}


def to_long(
    r: Resolved, chunk: Chunk, zone_of: ZoneOf, source: str
) -> tuple[pd.DataFrame, list[Rejection]]:
    """The chunk's readings (``record`` = row number in the file) and its rejected rows."""
    df, rows = chunk.frame, chunk.rows
    rej = list(chunk.rejected)
    keep = np.ones(len(df), dtype=bool)
    m = r.mapping
    if m.asset is not None:
        asset = pd.Series(m.asset, index=df.index, dtype=object)
    else:
        raw = df[r.asset_column]
        asset = (m.asset_prefix + raw.astype(str).str.strip()).where(raw.notna(), None)
        for i in np.flatnonzero(raw.isna().to_numpy()):
            rej.append(Rejection(int(rows[i]), r.asset_column, "no asset id", None, source))
        keep &= raw.notna().to_numpy()
    out = pd.DataFrame({"asset_id": asset})
    zones = asset.map(lambda a: m.timezone or (zone_of(a) if a else "UTC"))
    if r.time_column is not None:
        ts, why = parse_times(df[r.time_column], m.time_format, zones)
        _reject(rej, why, rows, r.time_column, asset, source)
        keep &= why.isna().to_numpy()
        out["ts"] = ts
    elif m.start is not None:
        offsets = pd.to_timedelta(rows * float(m.interval), unit="s")
        start = pd.Series(pd.Timestamp(m.start), index=df.index)
        if start.iloc[0].tzinfo is None:
            start = _localize(start.astype("datetime64[us]"), zones)[0]
        out["ts"] = (start + offsets).astype("datetime64[us, UTC]")
    else:
        cyc = pd.to_numeric(df[r.cycle_column], errors="coerce")
        bad = cyc.isna() | ~np.isfinite(cyc)
        why = pd.Series(None, index=df.index, dtype=object)
        why[bad] = [f"not a number of cycles: {show(v)}" for v in df[r.cycle_column][bad]]
        _reject(rej, why, rows, r.cycle_column, asset, source)
        keep &= ~bad.to_numpy()
        out["cycle"] = cyc
    if r.long:
        names = df[r.channel_column]
        out["channel"] = names.map(lambda v: r.columns[v].channel if v in r.columns else v)
        out["value"] = _values(df[r.value_column], None, m.decimal, names, r.columns)
    else:
        for col, ch in r.columns.items():
            out[ch.channel] = _values(df[col], ch, m.decimal)
    out = out.loc[keep].reset_index(drop=True)
    kept = rows[keep]
    if out.empty:
        return pd.DataFrame(columns=LONG_COLUMNS), rej
    long, more = from_frame(out, source)
    long["record"] = kept[long["record"].to_numpy(dtype=np.int64)]
    for x in more:
        x.index = None if x.index is None else int(kept[x.index])
    return long, rej + more


def _reject(rej, why: pd.Series, rows, field: str, asset: pd.Series, source: str) -> None:
    for i in np.flatnonzero(why.notna().to_numpy()):
        rej.append(Rejection(int(rows[i]), field, str(why.iloc[i]), None, source, asset.iloc[i]))


def _values(col: pd.Series, ch: Channel | None, decimal: str, names=None, columns=None):
    """File cells with the decimal mark and unit conversion applied; text that is no number
    stays as it is, for the parser to reject by name."""
    if decimal != "." and col.dtype == object:
        col = col.map(lambda v: v.replace(decimal, ".") if isinstance(v, str) else v)
    scale = offset = None
    if ch is not None and (ch.scale, ch.offset) != (1.0, 0.0):
        scale, offset = ch.scale, ch.offset
    elif names is not None and any((c.scale, c.offset) != (1.0, 0.0) for c in columns.values()):
        scale = names.map(lambda v: columns[v].scale if v in columns else 1.0).astype(float)
        offset = names.map(lambda v: columns[v].offset if v in columns else 0.0).astype(float)
    if scale is None:
        return col
    num = pd.to_numeric(col, errors="coerce")
    return (num * scale + offset).astype(object).where(num.notna(), col)


def parse_times(raw: pd.Series, fmt: str | None, zones: pd.Series) -> tuple[pd.Series, pd.Series]:
    """UTC times of a column, and per row the reason it could not be read (None where read)."""
    why = pd.Series(None, index=raw.index, dtype=object)
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):  # a Parquet time column
        if getattr(raw.dt, "tz", None) is not None:
            return raw.dt.tz_convert("UTC").astype("datetime64[us, UTC]"), why
        return _localize(raw.astype("datetime64[us]"), zones)
    present = raw.notna()
    why[~present] = "no time"
    text = raw.astype(str).str.strip().where(present, None)
    if fmt in _UNITS or (fmt is None and present.any() and _all_numbers(text[present])):
        unit = _UNITS.get(fmt or "epoch_s")
        num = pd.to_numeric(text, errors="coerce")
        ts = pd.to_datetime(num, unit=unit, utc=True, errors="coerce")
        bad = ts.isna() & present
        why[bad] = [f"not a time in {fmt or 'epoch seconds'}: {show(v)}" for v in raw[bad]]
        return ts.astype("datetime64[us, UTC]"), why
    aware = text.str.contains(_OFFSET, regex=True, na=False) if fmt is None else present & False
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us, UTC]")
    if aware.any():
        out[aware] = pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce")
    naive = present & ~aware
    if naive.any():
        if fmt is not None and "%z" in fmt:
            parsed = pd.to_datetime(text[naive], format=fmt, utc=True, errors="coerce")
            out[naive] = parsed
        else:
            parsed = pd.to_datetime(text[naive], format=fmt or "ISO8601", errors="coerce")
            local, dst = _localize(parsed.astype("datetime64[us]"), zones[naive])
            out[naive] = local
            lost = dst.dropna()
            why.loc[lost.index] = lost
    bad = out.isna() & present & why.isna()
    expected = f"the format {fmt!r}" if fmt else "ISO 8601 (give --time-format otherwise)"
    why[bad] = [f"unreadable time {show(v)}: expected {expected}" for v in raw[bad]]
    return out, why


def _all_numbers(text: pd.Series) -> bool:
    return bool(pd.to_numeric(text, errors="coerce").notna().all())


def _localize(naive: pd.Series, zones: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Naive local times as UTC, zone by zone; and why a time fell into a DST change."""
    out = pd.Series(pd.NaT, index=naive.index, dtype="datetime64[us, UTC]")
    why = pd.Series(None, index=naive.index, dtype=object)
    for zone, idx in zones.groupby(zones, sort=False).groups.items():
        local = naive.loc[idx].dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
        out.loc[idx] = local.dt.tz_convert("UTC")
        lost = local.isna() & naive.loc[idx].notna()
        why.loc[lost[lost].index] = (
            f"falls in the hour a daylight-saving change in {zone} skips or repeats: "
            "give times with an offset or in UTC"
        )
    return out, why
