"""Tables (CSV payloads, file chunks) into the long table of raw readings.

A table is long (``asset_id, ts|cycle, channel, value``) or wide (one column per channel). A
CSV row with more or fewer fields than the header is rejected by its row number: reading it
anyway would shift every value after the gap into the wrong channel, silently.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pandas as pd

from prognos.domain import Rejection
from prognos.ingest.shape import (
    LONG_COLUMNS,
    MAX_PER_RECORD,
    empty_long,
    more_rejected,
    raw_text,
    show,
)

_TIME_KEYS = ("ts", "timestamp", "time")
_SPECIAL = ["nan", "inf", "-inf", "+inf", "infinity", "-infinity"]


def _not_numbers(long: pd.DataFrame, df: pd.DataFrame, bad: pd.Series, source: str) -> list:
    """A rejection per cell that is not a number: at most ``MAX_PER_RECORD`` a row, the row
    itself on the first only, then one saying how many more."""
    bad_rows = long.loc[bad]
    if not len(bad_rows):
        return []
    nth = bad_rows.groupby("record", sort=False).cumcount().to_numpy()
    listed = bad_rows[nth < MAX_PER_RECORD]
    first = nth[nth < MAX_PER_RECORD] == 0
    raw_rows = df.iloc[listed["record"].to_numpy()[first]].to_dict("records")
    raws = iter(raw_rows)
    rej = [
        Rejection(
            int(r.record),
            str(r.channel),
            f"not a number: {show(r.value_raw)}",
            raw_text(next(raws)) if is_first else None,
            source,
            r.asset_id,
        )
        for r, is_first in zip(listed.itertuples(), first, strict=True)
    ]
    counts = bad_rows.groupby("record", sort=False).size()
    asset = bad_rows.groupby("record", sort=False)["asset_id"].first()
    for record, n in counts[counts > MAX_PER_RECORD].items():
        rej.append(more_rejected(int(record), int(n) - MAX_PER_RECORD, source, asset[record]))
    return rej


def from_frame(
    df: pd.DataFrame, source: str = "csv", first_record: int = 0
) -> tuple[pd.DataFrame, list[Rejection]]:
    """A table, long (``asset_id, ts|cycle, channel, value``) or wide (one column per channel).

    ``first_record`` numbers the rows when the table is one chunk of a larger file.
    """
    df = df.reset_index(drop=True)
    cols = [c.strip() for c in df.columns.astype(str)]
    df.columns = cols
    twice = sorted({c for c in cols if cols.count(c) > 1})
    if twice:
        why = f"columns named twice: {', '.join(twice)} (which one holds the readings?)"
        return empty_long(), [Rejection(None, "header", why, None, source)]
    if "asset_id" not in cols:
        why = f"no asset_id column (columns: {cols})"
        return empty_long(), [Rejection(None, "asset_id", why, None, source)]
    tcol = next((c for c in _TIME_KEYS if c in cols), None)
    if tcol is None and "cycle" not in cols:
        why = f"no ts or cycle column (columns: {cols})"
        return empty_long(), [Rejection(None, "ts", why, None, source)]
    base = pd.DataFrame({"record": df.index, "asset_id": df["asset_id"].astype(str)})
    base["ts"] = df[tcol] if tcol else None
    base["cycle"] = df["cycle"] if "cycle" in cols else None
    if {"channel", "value"} <= set(cols):
        long = base.assign(channel=df["channel"].astype(str), value_raw=df["value"])
    else:
        chans = [c for c in cols if c not in {"asset_id", "cycle", *_TIME_KEYS}]
        long = base.loc[base.index.repeat(len(chans))].reset_index(drop=True)
        long["channel"] = chans * len(df)
        long["value_raw"] = df[chans].to_numpy().reshape(-1)
    raw = long["value_raw"]
    num = pd.to_numeric(raw, errors="coerce")
    txt = raw.astype(str).str.strip().str.lower()
    bad = num.isna() & raw.notna() & (txt != "") & ~txt.isin(_SPECIAL)
    rej = _not_numbers(long, df, bad, source)
    # an empty cell is no reading: wide files leave channels out that were not sampled
    empty = raw.isna() | (txt == "")
    num = num.where(~txt.isin(["nan"]), math.nan)
    num = num.where(~txt.isin(["inf", "+inf", "infinity"]), math.inf)
    num = num.where(~txt.isin(["-inf", "-infinity"]), -math.inf)
    keep = ~bad & ~(empty & ~txt.isin(["nan"]))
    long = long.loc[keep].assign(value=num[keep].astype(float))
    if first_record:
        long["record"] = long["record"] + first_record
        for r in rej:
            r.index = None if r.index is None else r.index + first_record
    return long[LONG_COLUMNS].reset_index(drop=True), rej


def _unreadable(why: str, body: bytes, source: str) -> tuple[pd.DataFrame, list[Rejection]]:
    return empty_long(), [Rejection(None, "payload", why, raw_text(body), source)]


def from_csv_bytes(body: bytes, source: str = "csv") -> tuple[pd.DataFrame, list[Rejection]]:
    """A CSV payload (``,`` or ``;``, a byte order mark allowed); rows numbered from 0 after
    the header, blank lines skipped. A row whose field count differs from the header's is
    rejected by number, the rest read."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return _unreadable(f"not a readable CSV: {e}", body, source)
    head = text.split("\n", 1)[0]
    sep = ";" if head.count(";") > head.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    header: list[str] | None = None
    rows: list[list[str]] = []
    numbers: list[int] = []  # the record number of each row kept
    rej: list[Rejection] = []
    n, at = 0, None
    try:
        for row in reader:
            if not row:
                continue  # a blank line
            if header is None:
                header = row
                names = [h.strip() for h in header]
                at = names.index("asset_id") if "asset_id" in names else None
                continue
            if len(row) == len(header):
                rows.append(row)
                numbers.append(n)
            else:
                why = (
                    f"row has {len(row)} fields but the header has {len(header)} "
                    f"(line {reader.line_num}); a value would land in the wrong column"
                )
                a = row[at] if at is not None and at < len(row) else None
                rej.append(Rejection(n, "row", why, raw_text(sep.join(row)), source, a))
            n += 1
    except csv.Error as e:
        return _unreadable(f"not a readable CSV: line {reader.line_num}: {e}", body, source)
    if header is None:
        return _unreadable("not a readable CSV: no header line", body, source)
    df = pd.DataFrame(rows, columns=header, dtype=object) if rows else pd.DataFrame(columns=header)
    long, more = from_frame(df.replace({"": None}), source)
    if more and all(r.index is None for r in more):  # the header itself is wrong
        return long, more
    number = np.asarray(numbers, dtype=np.int64)
    long["record"] = number[long["record"].to_numpy(dtype=np.int64)]
    for r in more:
        r.index = None if r.index is None else int(number[r.index])
    return long, sorted(rej + more, key=lambda r: -1 if r.index is None else r.index)
