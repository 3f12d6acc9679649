"""Turn JSON payloads (long, wide or flat records) into one long table of raw readings.

Nothing is judged here beyond the shape of each record: a record whose shape is wrong becomes a
``Rejection`` naming its index and field; everything else goes on, still raw, to ``validate``.
The long table has columns ``record, asset_id, channel, ts, cycle, value``. Tables (CSV, files)
are read by ``tables``; both are re-exported here.

Any bytes at all may arrive (MQTT takes whatever a device publishes), so every way a payload
can be wrong ends as a rejection, never as an exception: numbers no float holds, nesting deeper
than a parser recurses, strings that are no text (lone surrogates). One message that raised
would otherwise stop the batch it came in, and come back after every restart.
"""

from __future__ import annotations

import json
import logging
import math
from itertools import chain
from typing import Any

import numpy as np
import orjson
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
from prognos.ingest.tables import from_csv_bytes, from_frame

__all__ = ["LONG_COLUMNS", "from_csv_bytes", "from_frame", "from_json_bytes"]
__all__ += ["from_json_messages", "from_json_records"]

log = logging.getLogger(__name__)

_LONG_INDEX = pd.Index(LONG_COLUMNS, dtype=object)
_NUMBER_TYPES = {int, float}
# keys of a record that are not channels: what a flat record {"ts": ..., "temp": 1} leaves out
_META_KEYS = frozenset(("asset_id", "ts", "timestamp", "time", "cycle"))


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _float(v: int | float) -> float:
    """``float(v)``; an integer too large for a float is infinite (and validation says so)."""
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def _time_of(rec: dict, i: int, rej: list[Rejection], source: str) -> tuple[Any, Any] | None:
    # the first time key present wins: ts, timestamp, time (spelt out: this runs per record)
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
        why = "missing: give 'ts' (ISO 8601 UTC or epoch seconds) or 'cycle'"
        rej.append(Rejection(i, "ts", why, raw_text(rec), source))
        return None
    if ts is not None and not isinstance(ts, str) and not _is_number(ts):
        why = f"expected an ISO 8601 string or epoch seconds, got {type(ts).__name__}"
        rej.append(Rejection(i, "ts", why, raw_text(rec), source))
        return None
    if cycle is not None and not (
        _is_number(cycle) and cycle >= 0 and _float(cycle) < math.inf and float(cycle).is_integer()
    ):
        why = f"expected a whole number >= 0, got {show(cycle)}"
        rej.append(Rejection(i, "cycle", why, raw_text(rec), source))
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

    def truncate(self, n: int) -> None:
        """Drop the runs from ``n`` on (what a message that failed half-way appended)."""
        for col in (self.record, self.asset_id, self.ts, self.cycle, self.channels, self.values):
            del col[n:]

    def frame(self) -> pd.DataFrame:
        runs = np.fromiter(map(len, self.values), dtype=np.int64, count=len(self.values))
        n = int(runs.sum())
        try:
            value = np.fromiter(chain.from_iterable(self.values), dtype=np.float64, count=n)
        except OverflowError:  # an integer beyond float range, from records built in Python
            value = np.fromiter(map(_float, chain.from_iterable(self.values)), np.float64, n)
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


def _add_values(
    cols: _Columns,
    rej: list[Rejection],
    i: int,
    rec: dict,
    vals: dict,
    prefix: str,
    at: tuple[str, Any, Any, str],
) -> None:
    """The readings of a wide (``values``) or flat record; non-numbers rejected, at most
    ``MAX_PER_RECORD`` named, the record itself kept on the first."""
    a, ts, cyc, source = at
    vs = list(vals.values())
    # Fast path: every value a plain number (bool is an int subclass, so compare types).
    if set(map(type, vs)) <= _NUMBER_TYPES:
        cols.add_row(i, a, vals.keys(), ts, cyc, vs)
        return
    bad = 0
    for ch, v in vals.items():
        if _is_number(v):
            cols.add(i, a, ch, ts, cyc, _float(v))
            continue
        bad += 1
        if bad <= MAX_PER_RECORD:
            raw = raw_text(rec) if bad == 1 else None
            why = f"expected a number, got {show(v)}"
            rej.append(Rejection(i, f"{prefix}{ch}", why, raw, source, a))
    if bad > MAX_PER_RECORD:
        rej.append(more_rejected(i, bad - MAX_PER_RECORD, source, a))


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
        why = f"expected an object, got {type(rec).__name__}"
        rej.append(Rejection(i, "record", why, raw_text(rec), source))
        return
    a = rec.get("asset_id", asset_id)
    if not isinstance(a, str) or not a:
        rej.append(Rejection(i, "asset_id", "missing or not a string", raw_text(rec), source))
        return
    if asset_id is not None and a != asset_id:
        why = f"record names {show(a)} but was sent for {asset_id!r}"
        rej.append(Rejection(i, "asset_id", why, raw_text(rec), source, a))
        return
    t = _time_of(rec, i, rej, source)
    if t is None:
        rej[-1].asset_id = a
        return
    ts, cyc = t
    if "values" in rec:
        vals = rec["values"]
        if not isinstance(vals, dict) or not vals:
            why = "expected a non-empty object of channel: number"
            rej.append(Rejection(i, "values", why, raw_text(rec), source, a))
            return
        _add_values(cols, rej, i, rec, vals, "values.", (a, ts, cyc, source))
    elif "channel" in rec or "value" in rec:
        ch, v = rec.get("channel"), rec.get("value")
        if not isinstance(ch, str) or not ch:
            why = "missing or not a string (or give 'values')"
            rej.append(Rejection(i, "channel", why, raw_text(rec), source, a))
            return
        if not _is_number(v):
            why = f"expected a number, got {show(v)}"
            rej.append(Rejection(i, "value", why, raw_text(rec), source, a))
            return
        cols.add(i, a, ch, ts, cyc, _float(v))
    else:  # flat: {"ts": ..., "temp": 63.2, "vibration": 5.1}, every other key a channel
        vals = {k: v for k, v in rec.items() if k not in _META_KEYS}
        if not vals:
            why = "no readings: give channel: number pairs, 'values', or 'channel' and 'value'"
            rej.append(Rejection(i, "values", why, raw_text(rec), source, a))
            return
        _add_values(cols, rej, i, rec, vals, "", (a, ts, cyc, source))


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
    """Long records ``{asset_id, ts|cycle, channel, value}``, wide ``{asset_id, ts|cycle,
    values: {...}}`` or flat ``{asset_id, ts|cycle, <channel>: <number>, ...}``.

    ``asset_id`` fills in records that lack one (MQTT: the topic names the asset).
    """
    cols = _Columns()
    rej: list[Rejection] = []
    _add_records(cols, rej, records, 0, source, asset_id)
    return cols.frame(), rej


def _int(digits: str) -> int | float:
    """JSON integers as the standard parser reads them, but one too long for an exact int64
    becomes a float (infinite past 1e308) instead of an int no float or array can hold."""
    return int(digits) if len(digits) < 19 else float(digits)


def _loads(body: bytes) -> Any:
    """orjson where it can; the standard parser for what orjson refuses but JSON readers accept
    (NaN and Infinity literals, 1e999, huge integers, a byte order mark, UTF-16) and for the
    error message. What the standard parser lets through that is no text (a lone surrogate,
    which no database stores) is refused here."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        doc = json.loads(body, parse_int=_int)
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a string holds a lone UTF-16 surrogate, which is no character") from None
    return doc


def _load(body: bytes, source: str, asset_id: str | None) -> tuple[list | None, Rejection | None]:
    """The records of a JSON payload: a list of records, one record, or ``{"readings": [...]}``."""
    try:
        doc = _loads(body)
    except RecursionError:
        why = "not valid JSON here: nested deeper than the parser follows"
        return None, Rejection(None, "payload", why, raw_text(body), source, asset_id)
    except (ValueError, UnicodeError) as e:  # JSONDecodeError and UnicodeDecodeError included
        why = f"not valid JSON: {e}"
        return None, Rejection(None, "payload", why, raw_text(body), source, asset_id)
    if isinstance(doc, dict) and "readings" in doc:
        doc = doc["readings"]
    if isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list):
        why = "expected a list of records or an object"
        return None, Rejection(None, "payload", why, raw_text(body), source, asset_id)
    return doc, None


def _add_payload(
    cols: _Columns,
    rej: list[Rejection],
    body: bytes,
    offset: int,
    source: str,
    asset_id: str | None,
    max_payload_bytes: int | None,
) -> int:
    """One payload's readings and rejections, its records numbered from ``offset``; returns
    the next free index. A payload that raises anyway (a bug here) costs itself only: it is
    rejected whole, with what it had appended taken back."""
    n_runs, n_rej = len(cols.record), len(rej)
    try:
        if max_payload_bytes is not None and len(body) > max_payload_bytes:
            why = f"payload of {len(body)} bytes exceeds the limit of {max_payload_bytes} bytes"
            rej.append(Rejection(offset, "payload", why, raw_text(body[:2000]), source, asset_id))
            return offset + 1
        doc, bad = _load(body, source, asset_id)
        if bad is not None:
            bad.index = offset
            rej.append(bad)
            return offset + 1
        _add_records(cols, rej, doc, offset, source, asset_id)
        return offset + max(len(doc), 1)
    except Exception as e:
        log.exception("a %s payload could not be read; quarantined whole", source)
        cols.truncate(n_runs)
        del rej[n_rej:]
        why = f"could not be read ({type(e).__name__}); quarantined whole"
        rej.append(Rejection(offset, "payload", why, raw_text(body), source, asset_id))
        return offset + 1


def from_json_bytes(body: bytes, source: str = "json", asset_id: str | None = None):
    """Parse a JSON payload: a list of records, one record, or ``{"readings": [...]}``."""
    cols = _Columns()
    rej: list[Rejection] = []
    _add_payload(cols, rej, body, 0, source, asset_id, None)
    if rej and rej[0].field == "payload" and not cols.record:
        rej[0].index = None  # the payload as a whole, not its first record
        return empty_long(), rej
    return cols.frame(), rej


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
        offset = _add_payload(cols, rej, body, offset, source, asset_id, max_payload_bytes)
    return cols.frame(), rej
