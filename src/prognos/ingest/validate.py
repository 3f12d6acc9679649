"""Judge raw readings against the registry: who may write them, whether they make sense.

Vectorised over the long table from ``records``, so a 100k-reading batch costs a few array
operations. Each failing reading becomes a ``Rejection`` naming its record, field and reason.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from prognos.domain import Principal, ReadingBatch, Registry, Rejection
from prognos.ingest.shape import MAX_PER_RECORD, more_rejected, raw_text

_EPOCH_MIN = np.datetime64("1990-01-01", "us")
_NAT = np.datetime64("NaT", "us")
_MAX_CYCLE_SECONDS = 1e11  # about 3,000 years after installation; beyond, datetime64 overflows
# What datetime.fromisoformat reads exactly as pandas' ISO 8601 parser does; anything else
# (other ISO forms, digits as epoch seconds) goes the general way.
_PLAIN_ISO = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|[+-]\d\d:\d\d)?")


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Factorise a column: per-row codes (-1 for missing) and the distinct values.

    Batches repeat themselves (a wide record's time and asset stand on each of its channels),
    so the expensive per-value work runs on the few distinct values and is taken back by code.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, np.asarray(uniques, dtype=object)


def _take(values: np.ndarray, codes: np.ndarray, missing) -> np.ndarray:
    """``values[codes]`` with ``missing`` where the code is -1."""
    return np.append(values, np.array([missing], dtype=values.dtype))[codes]


def _naive_utc(t: datetime) -> np.datetime64:
    """Naive datetimes are taken as UTC, as everywhere in prognos."""
    if t.tzinfo is not None:
        t = t.astimezone(UTC).replace(tzinfo=None)
    return np.datetime64(t, "us")


def _parse_time_values(t: np.ndarray) -> np.ndarray:
    """Distinct non-missing ``ts`` values to naive UTC datetime64[us] (NaT where unparseable).

    Plain ISO strings and whole epoch seconds, the usual cases, skip pandas' per-call cost.
    """
    out = np.full(len(t), _NAT)
    rest = []
    for j, v in enumerate(t):
        if type(v) is str and _PLAIN_ISO.fullmatch(v):
            try:
                out[j] = _naive_utc(datetime.fromisoformat(v))
                continue
            except ValueError:  # out of range (month 13): pandas says what it makes of it
                pass
        elif type(v) is int and -(10**11) < v < 10**11:
            out[j] = np.datetime64(v, "s")
            continue
        rest.append(j)
    if rest:
        out[rest] = _parse_time_values_pandas(pd.Series(t[rest], dtype=object)).to_numpy()
    return out


def _parse_time_values_pandas(t: pd.Series) -> pd.Series:
    """The general way: epoch seconds (numbers or digit strings) and any ISO 8601 string."""
    out = pd.Series(pd.NaT, index=t.index, dtype="datetime64[us]")
    numeric = pd.to_numeric(t, errors="coerce")
    is_num = numeric.notna() & t.map(
        lambda v: not isinstance(v, str) or v.strip().replace(".", "", 1).isdigit()
    )
    if is_num.any():
        out.loc[is_num[is_num].index] = _as_us(
            pd.to_datetime(numeric[is_num], unit="s", utc=True, errors="coerce")
        )
    strs = t[~is_num]
    if len(strs):
        out.loc[strs.index] = _as_us(
            pd.to_datetime(strs.astype(str), utc=True, errors="coerce", format="ISO8601")
        )
    return out


def _as_us(t: pd.Series) -> pd.Series:
    """Aware times as naive UTC microseconds: a string with nanoseconds parses to a finer
    unit than the column holds, and pandas refuses to mix them."""
    return t.dt.tz_convert(None).astype("datetime64[us]")


def _parse_times(
    df: pd.DataFrame, raw_ts: np.ndarray, registry: Registry, asset_codes, asset_ids
) -> tuple[np.ndarray, np.ndarray]:
    """Naive UTC datetime64[us] per reading: ISO strings, epoch seconds, or cycle counted from
    installation; and where a cycle lies too far from installation to be placed at all."""
    codes, uniques = _codes(raw_ts)
    out = _take(_parse_time_values(uniques), codes, _NAT)
    too_far = np.zeros(len(out), dtype=bool)
    cyc = codes < 0
    if cyc.any():
        cyc &= ~pd.isna(df["cycle"].to_numpy(dtype=object))
    if not cyc.any():
        return out, too_far
    # per distinct asset: installation time and seconds per cycle (NaN when unknown)
    inst = np.array(
        [
            _naive_utc(a.installed_at) if (a := registry.assets.get(x)) is not None else _NAT
            for x in asset_ids
        ],
        dtype="datetime64[us]",
    )
    unit_s = np.array(
        [
            registry.types[a.type_id].time_unit.seconds
            if (a := registry.assets.get(x)) is not None and a.type_id in registry.types
            else np.nan
            for x in asset_ids
        ],
        dtype=float,
    )
    i = asset_codes[cyc]
    secs = pd.to_numeric(df["cycle"][cyc], errors="coerce").to_numpy(dtype=float)
    secs = secs * _take(unit_s, i, np.nan)
    start = _take(inst, i, _NAT)
    ok = ~np.isnat(start) & ~np.isnan(secs)
    far = np.zeros(len(secs), dtype=bool)
    far[ok] = np.abs(secs[ok]) > _MAX_CYCLE_SECONDS  # would overflow the time column
    ok &= ~far
    placed = np.full(len(secs), _NAT)
    placed[ok] = start[ok] + np.round(secs[ok] * 1e6).astype("timedelta64[us]")
    out[cyc] = placed
    too_far[cyc] = far
    return out, too_far


def _channel_specs(
    registry: Registry, known: list, asset_codes: np.ndarray, chans: np.ndarray, chan_codes
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per reading: whether its channel belongs to its asset's type, and the valid min and max.

    Looked up once per (type, channel) pair that occurs, then taken back by code.
    """
    type_ids = list(dict.fromkeys(a.type_id for a in known if a and a.type_id in registry.types))
    row = {t: j for j, t in enumerate(type_ids)}
    shape = (len(type_ids) + 1, len(chans) + 1)  # the last row and column: unknown type/channel
    ok = np.zeros(shape, dtype=bool)
    lo = np.full(shape, np.nan)
    hi = np.full(shape, np.nan)
    for j, t in enumerate(type_ids):
        spec_of = {c.name: c for c in registry.types[t].channels}
        for k, ch in enumerate(chans):
            spec = spec_of.get(ch) if isinstance(ch, str) else None
            if spec is not None:
                ok[j, k] = True
                lo[j, k] = np.nan if spec.min is None else spec.min
                hi[j, k] = np.nan if spec.max is None else spec.max
    unknown_row, unknown_col = shape[0] - 1, shape[1] - 1
    type_row = _take(
        np.array(
            [row.get(a.type_id, unknown_row) if a else unknown_row for a in known],
            dtype=np.int64,
        ),
        asset_codes,
        unknown_row,
    )
    flat = type_row * shape[1] + np.where(chan_codes < 0, unknown_col, chan_codes)
    return ok.reshape(-1)[flat], lo.reshape(-1)[flat], hi.reshape(-1)[flat]


def validate(
    df: pd.DataFrame,
    registry: Registry,
    principal: Principal,
    *,
    now: datetime | None = None,
    max_future_seconds: float = 300.0,
    source: str = "api",
    raw_records: list | None = None,
) -> tuple[ReadingBatch, list[Rejection]]:
    """Split raw readings into a storable batch and the rejections, each with its reason."""
    if df.empty:
        return ReadingBatch.empty(), []
    now = now or datetime.now(UTC)
    n = len(df)
    reason = np.full(n, None, dtype=object)
    field = np.full(n, None, dtype=object)
    rejected = np.zeros(n, dtype=bool)

    def flag(mask: np.ndarray, f: str, why) -> None:
        """Mark readings not yet rejected; ``why`` is a string or a function of the mask giving
        one message per marked reading, so messages cost nothing on the (usual) all-good path."""
        if not mask.any():
            return
        m = mask & ~rejected
        if m.any():
            reason[m] = why if isinstance(why, str) else list(why(m))
            field[m] = f
            rejected[m] = True

    asset = df["asset_id"].to_numpy(dtype=object)
    channel = df["channel"].to_numpy(dtype=object)
    val = df["value"].to_numpy(dtype=float)

    # Per distinct asset: owner and type; per row by code.
    asset_codes, asset_ids = _codes(asset)
    known = [registry.assets.get(a) for a in asset_ids]
    owners = np.array([a.customer_id if a else None for a in known], dtype=object)
    owner = _take(owners, asset_codes, None)
    unknown = pd.isna(owner)
    flag(
        unknown,
        "asset_id",
        "unknown asset: register it first (prognos registry / POST /api/v1/assets)",
    )
    if not principal.is_manufacturer:
        # Another customer's asset is answered as unknown: its existence is not this key's business.
        flag(~unknown & (owner != principal.customer_id), "asset_id", "unknown asset for this key")

    # Per (type, channel) pair that occurs: is the channel the type's, and its valid range.
    chan_codes, chans = _codes(channel)
    ok, lo, hi = _channel_specs(registry, known, asset_codes, chans, chan_codes)
    flag(
        ~ok,
        "channel",
        lambda m: [f"unknown channel for this asset type: {c}" for c in channel[m]],
    )

    flag(np.isnan(val), "value", "NaN is not a reading")
    flag(np.isinf(val), "value", "infinite value")
    with np.errstate(invalid="ignore"):
        too_low = val < lo  # False where lo is NaN (no minimum)
        too_high = val > hi
    flag(
        too_low,
        "value",
        lambda m: [
            f"below the channel's valid minimum {x}: {v}"
            for x, v in zip(lo[m], val[m], strict=True)
        ],
    )
    flag(
        too_high,
        "value",
        lambda m: [
            f"above the channel's valid maximum {x}: {v}"
            for x, v in zip(hi[m], val[m], strict=True)
        ],
    )

    if isinstance(df["ts"].dtype, pd.DatetimeTZDtype):  # parsed upstream (simulator, loaders)
        ts = df["ts"].dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
        raw_ts = np.full(n, None, dtype=object)  # nothing left unparsed
        too_far = np.zeros(n, dtype=bool)
    else:
        raw_ts = df["ts"].to_numpy(dtype=object)
        ts, too_far = _parse_times(df, raw_ts, registry, asset_codes, asset_ids)
    flag(too_far, "cycle", "too many cycles after installation to place in time")
    t_na = np.isnat(ts)
    if t_na.any():
        flag(
            t_na & ~pd.isna(raw_ts),
            "ts",
            lambda m: [
                f"unparseable time: {x} (use ISO 8601 UTC or epoch seconds)" for x in raw_ts[m]
            ],
        )
        flag(t_na, "cycle", "cannot place cycle in time: unknown asset or asset type")
    limit = np.datetime64(_naive_utc(now + timedelta(seconds=max_future_seconds)), "us")
    flag(
        ts > limit,
        "ts",
        lambda m: [
            f"in the future: {pd.Timestamp(t, tz='UTC')} is after the server clock "
            f"({now.isoformat()})"
            for t in ts[m]
        ],
    )
    flag(ts < _EPOCH_MIN, "ts", "implausibly old: before 1990")

    if not rejected.any():
        return ReadingBatch(asset, channel, ts, val), []
    rejections = _rejections(df, rejected, field, reason, source, raw_records)
    good = ~rejected
    batch = ReadingBatch(asset[good], channel[good], ts[good], val[good])
    return batch, rejections


def _rejections(
    df: pd.DataFrame,
    rejected: np.ndarray,
    field: np.ndarray,
    reason: np.ndarray,
    source: str,
    raw_records: list | None,
) -> list[Rejection]:
    """A rejection per rejected reading, at most ``MAX_PER_RECORD`` a record (a record with
    thousands of channels, all wrong, stays a few rows of quarantine), then one summary.

    Each names its reading as raw; ``raw_records`` (the records as sent) puts the record on
    its first rejection instead, once.
    """
    sub = df.loc[rejected]
    rec = sub["record"].to_numpy(dtype=object)
    has = ~pd.isna(rec)
    key = np.where(has, rec, -1 - np.arange(len(rec)))  # no record: each reading its own
    nth = pd.Series(key).groupby(key, sort=False).cumcount().to_numpy()
    listed = nth < MAX_PER_RECORD
    rejections = []
    cols = [sub[c].to_numpy(dtype=object)[listed] for c in ("asset_id", "channel", "ts", "cycle")]
    values = sub["value"].to_numpy()[listed]
    rows = zip(rec[listed], has[listed], nth[listed], field[rejected][listed],
               reason[rejected][listed], *cols, values, strict=True)  # fmt: skip
    for record, known, n, f, why, a, ch, t, cyc, v in rows:
        record = int(record) if known else None
        if raw_records is not None and record is not None:
            raw = raw_text(raw_records[record]) if n == 0 else None
        else:
            raw = {"asset_id": a, "channel": ch, "ts": t, "cycle": cyc, "value": v}
        rejections.append(Rejection(record, str(f), str(why), raw, source, a))
    if (nth >= MAX_PER_RECORD).any():
        counts = pd.Series(key[has]).value_counts(sort=False)
        assets = dict(zip(key[has], sub["asset_id"].to_numpy(dtype=object)[has], strict=True))
        for record, count in counts[counts > MAX_PER_RECORD].items():
            extra = int(count) - MAX_PER_RECORD
            rejections.append(more_rejected(int(record), extra, source, assets[record]))
    return rejections
