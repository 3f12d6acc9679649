"""What every parser hands on: the long table's columns, and rejections that stay bounded.

A payload may be as hostile as its sender likes, so a rejection must never cost more than the
payload did: its raw text is kept once per record (not once per bad value: a record with 2,000
bad values would otherwise store itself 2,000 times), and a record lists at most
``MAX_PER_RECORD`` rejections, then one saying how many more there were.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pandas as pd

from prognos.domain import Rejection

LONG_COLUMNS = ["record", "asset_id", "channel", "ts", "cycle", "value"]
MAX_PER_RECORD = 20
RAW_CHARS = 100_000  # what the quarantine keeps of a raw payload


def empty_long() -> pd.DataFrame:
    return pd.DataFrame(columns=LONG_COLUMNS)


def raw_text(obj: Any, limit: int = RAW_CHARS) -> str:
    """``obj`` as JSON text for the quarantine, whatever it holds (deep nesting, lone
    surrogates, numbers no float can hold): never an exception."""
    if isinstance(obj, str):
        return obj[:limit]
    if isinstance(obj, bytes | bytearray):
        return bytes(obj[: 4 * limit]).decode("utf-8", "replace")[:limit]
    try:
        return orjson.dumps(obj, default=str).decode()[:limit]
    except (TypeError, ValueError):  # deeper than orjson goes, a surrogate, a huge integer
        pass
    try:
        return json.dumps(obj, default=str)[:limit]
    except (RecursionError, ValueError, TypeError):
        return "(a value nested too deeply to show)"


def show(v: Any, limit: int = 60) -> str:
    """A value, short, for a reason: ``'abc'``, ``[1, 2]``, ``{"a": ...`` cut at ``limit``."""
    if v is None or isinstance(v, str | int | float):
        try:
            text = repr(v)
        except ValueError:  # an int of more digits than Python prints
            text = "(an integer too long to print)"
    else:
        text = raw_text(v, limit + 1)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def more_rejected(index: int, extra: int, source: str, asset_id: str | None) -> Rejection:
    """The one rejection standing for the ones of a record beyond ``MAX_PER_RECORD``."""
    return Rejection(
        index,
        "record",
        f"{extra:,} more rejections of this record not listed (the first {MAX_PER_RECORD} are)",
        None,
        source,
        asset_id,
    )


def cap_per_record(rejections: list[Rejection]) -> list[Rejection]:
    """At most ``MAX_PER_RECORD`` rejections per record index, the raw record on the first
    only, and one summary per record that had more. Payload-level ones (index None) stay."""
    seen: dict[int, int] = {}
    first: dict[int, Rejection] = {}
    out: list[Rejection] = []
    for r in rejections:
        if r.index is None:
            out.append(r)
            continue
        n = seen.get(r.index, 0)
        seen[r.index] = n + 1
        if n == 0:
            first[r.index] = r
        else:
            r.raw = None  # the record is on its first rejection already
        if n < MAX_PER_RECORD:
            out.append(r)
    for i, n in seen.items():
        if n > MAX_PER_RECORD:
            f = first[i]
            out.append(more_rejected(i, n - MAX_PER_RECORD, f.source, f.asset_id))
    return out
