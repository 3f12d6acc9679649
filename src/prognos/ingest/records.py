"""Turn payloads (JSON long or wide records, CSV) into one long table of raw readings.

Nothing is judged here beyond the shape of each record: a record whose shape is wrong becomes a
``Rejection`` naming its index and field; everything else goes on, still raw, to ``validate``.
The long table has columns ``record, asset_id, channel, ts, cycle, value``.
"""

from __future__ import annotations

import io
import json
import math
from itertools import chain
from typing import Any

import numpy as np
import orjson
import pandas as pd

from prognos.domain import Rejection

LONG_COLUMNS = ["record", "asset_id", "channel", "ts", "cycle", "value"]
_LONG_INDEX = pd.Index(LONG_COLUMNS, dtype=object)
_TIME_KEYS = ("ts", "timestamp", "time")
_NUMBER_TYPES = {int, float}


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _time_of(rec: dict, i: int, rej: list[Rejection], source: str) -> tuple[Any, Any] | None:
    # the first time key present wins, as in _TIME_KEYS (spelt out: this runs per record)
    if "ts" in rec:
        ts = rec["ts"]
    elif "timestamp" in rec:
        ts = rec["timestamp"]
    else:
        ts = rec.get("time")
    cycle = rec.get("cycle")
    if type(ts) is str and cycle is None:
        return ts, None
    if ts is None and cycle is None:
        rej.append(
            Rejection(
                i,
                "ts",
                "missing: give 'ts' (ISO 8601 UTC or epoch seconds) or 'cycle'",
                rec,
                source,
            )
        )
        return None
    if ts is not None and not isinstance(ts, str) and not _is_number(ts):
        rej.append(
            Rejection(
                i,
                "ts",
                f"expected an ISO 8601 string or epoch seconds, got {type(ts).__name__}",
                rec,
                source,
            )
        )
        return None
    if cycle is not None and not (
        _is_number(cycle) and float(cycle) >= 0 and float(cycle).is_integer()
    ):
        rej.append(
            Rejection(i, "cycle", f"expected a whole number >= 0, got {cycle!r}", rec, source)
        )
        return None
    return ts, cycle


class _Columns:
    """Growing columns of the long table, a run of readings per record.

    A wide record appends its channels and values as they came (no object per reading); the
    record-level columns are repeated over each run once, in ``frame``.
    """

    def __init__(self) -> None:
        self.record: list[int] = []
        self.asset_id: list[str] = []
        self.ts: list[Any] = []
        self.cycle: list[Any] = []
        self.channels: list[Any] = []  # per run: an iterable of channel names
        self.values: list[Any] = []  # per run: a sequence of numbers

    def add(self, i: int, a: str, ch: str, ts: Any, cyc: Any, v: float) -> None:
        self.add_row(i, a, (ch,), ts, cyc, (v,))

    def add_row(self, i: int, a: str, chans: Any, ts: Any, cyc: Any, vals: Any) -> None:
        self.record.append(i)
        self.asset_id.append(a)
        self.ts.append(ts)
        self.cycle.append(cyc)
        self.channels.append(chans)
        self.values.append(vals)

    def frame(self) -> pd.DataFrame:
        runs = np.fromiter(map(len, self.values), dtype=np.int64, count=len(self.values))
        n = int(runs.sum())
        value = np.fromiter(chain.from_iterable(self.values), dtype=np.float64, count=n)
        channel = np.empty(n, dtype=object)
        channel[:] = list(chain.from_iterable(self.channels))

        def per_run(values: list) -> np.ndarray:
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            return arr.repeat(runs)

        return _frame(
            np.asarray(self.record, dtype=np.int64).repeat(runs),
            per_run(self.asset_id),
            channel,
            per_run(self.ts),
            per_run(self.cycle),
            value,
        )


def _frame(record, asset_id, channel, ts, cycle, value) -> pd.DataFrame:
    """The long table from its numpy columns, taken as they are.

    Object columns stay object (no per-string conversion to the Arrow string dtype, which would
    cost more than the whole parse), and ``_from_arrays`` skips the per-column inference of the
    public constructor: half a millisecond a batch, more than the parse of a hundred messages.
    """
    arrays = [record, asset_id, channel, ts, cycle, value]
    try:  # a private constructor: fall back to the public one should pandas change it
        return pd.DataFrame._from_arrays(
            arrays, columns=_LONG_INDEX, index=pd.RangeIndex(len(value)), verify_integrity=False
        )
    except (AttributeError, TypeError):  # pragma: no cover - depends on the pandas release
        df = pd.DataFrame(dict(zip(_LONG_INDEX, arrays, strict=True)), copy=False)
        return df.astype(
            {n: object for n, a in zip(_LONG_INDEX, arrays, strict=True) if a.dtype == object}
        )


def _add_record(
    cols: _Columns,
    rej: list[Rejection],
    i: int,
    rec: Any,
    source: str,
    asset_id: str | None,
) -> None:
    """Append one JSON record's readings to ``cols``, or its rejections to ``rej``."""
    if not isinstance(rec, dict):
        rej.append(
            Rejection(i, "record", f"expected an object, got {type(rec).__name__}", rec, source)
        )
        return
    a = rec.get("asset_id", asset_id)
    if not isinstance(a, str) or not a:
        rej.append(Rejection(i, "asset_id", "missing or not a string", rec, source))
        return
    if asset_id is not None and a != asset_id:
        rej.append(
            Rejection(
                i,
                "asset_id",
                f"record names {a!r} but was sent for {asset_id!r}",
                rec,
                source,
                a,
            )
        )
        return
    t = _time_of(rec, i, rej, source)
    if t is None:
        rej[-1].asset_id = a
        return
    ts, cyc = t
    if "values" in rec:
        vals = rec["values"]
        if not isinstance(vals, dict) or not vals:
            rej.append(
                Rejection(
                    i, "values", "expected a non-empty object of channel: number", rec, source, a
                )
            )
            return
        vs = list(vals.values())
        # Fast path: every value a plain number (bool is an int subclass, so compare types).
        if set(map(type, vs)) <= _NUMBER_TYPES:
            cols.add_row(i, a, vals.keys(), ts, cyc, vs)
            return
        for ch, v in vals.items():
            if not _is_number(v):
                rej.append(
                    Rejection(i, f"values.{ch}", f"expected a number, got {v!r}", rec, source, a)
                )
                continue
            cols.add(i, a, ch, ts, cyc, float(v))
    else:
        ch, v = rec.get("channel"), rec.get("value")
        if not isinstance(ch, str) or not ch:
            rej.append(
                Rejection(
                    i, "channel", "missing or not a string (or give 'values')", rec, source, a
                )
            )
            return
        if not _is_number(v):
            rej.append(Rejection(i, "value", f"expected a number, got {v!r}", rec, source, a))
            return
        cols.add(i, a, ch, ts, cyc, float(v))


def _add_records(
    cols: _Columns,
    rej: list[Rejection],
    records: list[Any],
    first: int,
    source: str,
    asset_id: str | None,
) -> None:
    """``_add_record`` for each record, numbered from ``first``.

    A plain wide record (an ISO ``ts``, no ``cycle``, only numbers in ``values``), what devices
    send, is taken in line: the same result as ``_add_record``, without its checks one by one.
    """
    add_row = cols.add_row
    for i, rec in enumerate(records, first):
        if type(rec) is dict:
            vals = rec.get("values")
            ts = rec.get("ts")
            a = rec.get("asset_id", asset_id)
            if (
                type(vals) is dict
                and vals
                and type(ts) is str
                and rec.get("cycle") is None
                and type(a) is str
                and a
                and (asset_id is None or a == asset_id)
            ):
                vs = list(vals.values())
                if set(map(type, vs)) <= _NUMBER_TYPES:
                    add_row(i, a, vals.keys(), ts, None, vs)
                    continue
        _add_record(cols, rej, i, rec, source, asset_id)


def from_json_records(
    records: list[Any], source: str = "json", asset_id: str | None = None
) -> tuple[pd.DataFrame, list[Rejection]]:
    """Long records ``{asset_id, ts|cycle, channel, value}`` or wide ``{asset_id, ts|cycle, values: {...}}``.

    ``asset_id`` fills in records that lack one (MQTT: the topic names the asset).
    """
    cols = _Columns()
    rej: list[Rejection] = []
    _add_records(cols, rej, records, 0, source, asset_id)
    return cols.frame(), rej


def _loads(body: bytes) -> Any:
    """orjson where it can; the standard parser for what orjson refuses but JSON readers accept
    (NaN and Infinity literals, 1e999, a byte order mark, UTF-16) and for the error message."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


def _load(body: bytes, source: str, asset_id: str | None) -> tuple[list | None, Rejection | None]:
    """The records of a JSON payload: a list of records, one record, or ``{"readings": [...]}``."""
    try:
        doc = _loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        snippet = body[:200].decode("utf-8", "replace")
        return None, Rejection(None, "payload", f"not valid JSON: {e}", snippet, source, asset_id)
    if isinstance(doc, dict) and "readings" in doc:
        doc = doc["readings"]
    if isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list):
        return None, Rejection(
            None, "payload", "expected a list of records or an object", doc, source, asset_id
        )
    return doc, None


def from_json_bytes(body: bytes, source: str = "json", asset_id: str | None = None):
    """Parse a JSON payload: a list of records, one record, or ``{"readings": [...]}``."""
    doc, bad = _load(body, source, asset_id)
    if bad is not None:
        return pd.DataFrame(columns=LONG_COLUMNS), [bad]
    return from_json_records(doc, source, asset_id)


def from_json_messages(
    messages: list[tuple[str, bytes]], source: str = "mqtt", max_payload_bytes: int | None = None
) -> tuple[pd.DataFrame, list[Rejection]]:
    """Many small payloads, each for one asset (MQTT), into one long table.

    Record indices count across the batch in order: a payload takes as many indices as it has
    records, and at least one (a payload that is not JSON, too large or empty is index
    ``offset``). One table for the whole batch: a frame per message would cost more than the
    readings in it.
    """
    cols = _Columns()
    rej: list[Rejection] = []
    offset = 0
    for asset_id, body in messages:
        if max_payload_bytes is not None and len(body) > max_payload_bytes:
            rej.append(
                Rejection(
                    offset,
                    "payload",
                    f"payload of {len(body)} bytes exceeds the limit of {max_payload_bytes} bytes",
                    body[:2000].decode("utf-8", "replace"),
                    source,
                    asset_id,
                )
            )
            offset += 1
            continue
        doc, bad = _load(body, source, asset_id)
        if bad is not None:
            bad.index = offset
            rej.append(bad)
            offset += 1
            continue
        _add_records(cols, rej, doc, offset, source, asset_id)
        offset += max(len(doc), 1)
    return cols.frame(), rej


def from_frame(
    df: pd.DataFrame, source: str = "csv", first_record: int = 0
) -> tuple[pd.DataFrame, list[Rejection]]:
    """A table, long (``asset_id, ts|cycle, channel, value``) or wide (one column per channel).

    ``first_record`` numbers the rows when the table is one chunk of a larger file.
    """
    rej: list[Rejection] = []
    df = df.reset_index(drop=True)
    cols = [c.strip() for c in df.columns.astype(str)]
    df.columns = cols
    if "asset_id" not in cols:
        return pd.DataFrame(columns=LONG_COLUMNS), [
            Rejection(None, "asset_id", f"no asset_id column (columns: {cols})", None, source)
        ]
    tcol = next((c for c in _TIME_KEYS if c in cols), None)
    if tcol is None and "cycle" not in cols:
        return pd.DataFrame(columns=LONG_COLUMNS), [
            Rejection(None, "ts", f"no ts or cycle column (columns: {cols})", None, source)
        ]
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
    bad = num.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    bad &= ~raw.astype(str).str.strip().str.lower().isin(
        ["nan", "inf", "-inf", "+inf", "infinity", "-infinity"]
    )
    bad_rows = long.loc[bad]
    if len(bad_rows):
        raw_rows = df.iloc[bad_rows["record"].to_numpy()].to_dict("records")
        for r, raw_row in zip(bad_rows.itertuples(), raw_rows, strict=True):
            rej.append(
                Rejection(
                    int(r.record),
                    r.channel,
                    f"not a number: {r.value_raw!r}",
                    raw_row,
                    source,
                    r.asset_id,
                )
            )
    # an empty cell is no reading: wide files leave channels out that were not sampled
    empty = raw.isna() | (raw.astype(str).str.strip() == "")
    txt = raw.astype(str).str.strip().str.lower()
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


def from_csv_bytes(body: bytes, source: str = "csv") -> tuple[pd.DataFrame, list[Rejection]]:
    try:
        text = body.decode("utf-8-sig")
        sep = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        return pd.DataFrame(columns=LONG_COLUMNS), [
            Rejection(
                None,
                "payload",
                f"not a readable CSV: {e}",
                body[:200].decode("utf-8", "replace"),
                source,
            )
        ]
    return from_frame(df.replace({"": None}), source)
