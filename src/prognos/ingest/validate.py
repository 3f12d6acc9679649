"""Judge raw readings against the registry: who may write them, whether they make sense.

Vectorised over the long table from ``records``, so a 100k-reading batch costs a few array
operations. Each failing reading becomes a ``Rejection`` naming its record, field and reason.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from prognos.domain import Principal, ReadingBatch, Registry, Rejection

_EPOCH_MIN = np.datetime64("1990-01-01", "us")


def _codes(col: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Factorise a column: per-row codes (-1 for missing) and the distinct values.

    Batches repeat themselves (a wide record's time and asset stand on each of its channels),
    so the expensive per-value work runs on the few distinct values and is taken back by code.
    """
    codes, uniques = pd.factorize(col.to_numpy(dtype=object), use_na_sentinel=True)
    return codes, pd.Series(np.asarray(uniques, dtype=object), dtype=object)


def _take(values: np.ndarray, codes: np.ndarray, missing) -> np.ndarray:
    """``values[codes]`` with ``missing`` where the code is -1."""
    return np.append(values, np.array([missing], dtype=values.dtype))[codes]


def _naive_utc(t: datetime) -> np.datetime64:
    """Naive datetimes are taken as UTC, as everywhere in prognos."""
    if t.tzinfo is not None:
        t = t.astimezone(UTC).replace(tzinfo=None)
    return np.datetime64(t, "us")


def _parse_time_values(t: pd.Series) -> pd.Series:
    """Distinct non-missing ``ts`` values to UTC datetimes (NaT where unparseable)."""
    out = pd.Series(pd.NaT, index=t.index, dtype="datetime64[us, UTC]")
    numeric = pd.to_numeric(t, errors="coerce")
    is_num = numeric.notna() & t.map(
        lambda v: not isinstance(v, str) or v.strip().replace(".", "", 1).isdigit()
    )
    if is_num.any():
        out.loc[is_num[is_num].index] = pd.to_datetime(
            numeric[is_num], unit="s", utc=True, errors="coerce"
        )
    strs = t[~is_num]
    if len(strs):
        out.loc[strs.index] = pd.to_datetime(
            strs.astype(str), utc=True, errors="coerce", format="ISO8601"
        )
    return out


def _parse_times(
    df: pd.DataFrame, registry: Registry, asset_codes: np.ndarray, asset_ids: pd.Series
) -> pd.Series:
    """UTC datetime64 per reading: ISO strings, epoch seconds, or cycle counted from installation."""
    ts = df["ts"]
    if isinstance(ts.dtype, pd.DatetimeTZDtype):  # already parsed upstream (simulator, loaders)
        return ts.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    codes, uniques = _codes(ts)
    parsed = _parse_time_values(uniques).dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
    out = _take(parsed, codes, np.datetime64("NaT", "us"))
    has_ts = codes >= 0
    cyc = df["cycle"].notna().to_numpy() & ~has_ts
    if cyc.any():
        # per distinct asset: installation time and seconds per cycle (NaN when unknown)
        inst = np.array(
            [
                _naive_utc(a.installed_at)
                if (a := registry.assets.get(x)) is not None
                else np.datetime64("NaT", "us")
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
        start = _take(inst, i, np.datetime64("NaT", "us"))
        ok = ~np.isnat(start) & ~np.isnan(secs)
        placed = np.full(len(secs), np.datetime64("NaT", "us"))
        placed[ok] = start[ok] + np.round(secs[ok] * 1e6).astype("timedelta64[us]")
        out[cyc] = placed
    return pd.Series(out, index=df.index).dt.tz_localize("UTC")


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
        m = np.asarray(mask, dtype=bool) & ~rejected
        if m.any():
            reason[m] = why if isinstance(why, str) else list(why(m))
            field[m] = f
            rejected[m] = True

    # Per distinct asset: owner and type; per row by code.
    asset_codes, asset_ids = _codes(df["asset_id"])
    known = [registry.assets.get(a) for a in asset_ids]
    owner = _take(
        np.array([a.customer_id if a else None for a in known], dtype=object), asset_codes, None
    )
    flag(
        pd.isna(owner),
        "asset_id",
        "unknown asset: register it first (prognos registry / POST /api/v1/assets)",
    )
    if not principal.is_manufacturer:
        # Another customer's asset is answered as unknown: its existence is not this key's business.
        flag(
            ~pd.isna(owner) & (owner != principal.customer_id),
            "asset_id",
            "unknown asset for this key",
        )

    # Per (type, channel) pair that occurs: is the channel the type's, and its valid range.
    types = list(registry.types)
    type_index = {t: i for i, t in enumerate(types)}
    type_code = _take(
        np.array([type_index.get(a.type_id, -1) if a else -1 for a in known], dtype=np.int64),
        asset_codes,
        -1,
    )
    chan_codes, chans = _codes(df["channel"])
    pair = np.where(
        (type_code >= 0) & (chan_codes >= 0), type_code * (len(chans) + 1) + chan_codes, -1
    )
    pairs, pair_codes = np.unique(pair, return_inverse=True)
    lo_p = np.full(len(pairs), np.nan)
    hi_p = np.full(len(pairs), np.nan)
    ok_p = np.zeros(len(pairs), dtype=bool)
    for j, key in enumerate(pairs):
        if key < 0:
            continue
        spec = registry.types[types[key // (len(chans) + 1)]].channel(
            chans.iloc[key % (len(chans) + 1)]
        )
        if spec is not None:
            ok_p[j] = True
            lo_p[j] = np.nan if spec.min is None else spec.min
            hi_p[j] = np.nan if spec.max is None else spec.max
    pair_codes = pair_codes.reshape(-1)
    channel = df["channel"]
    flag(
        ~ok_p[pair_codes],
        "channel",
        lambda m: ("unknown channel for this asset type: " + channel[m].astype(str)).tolist(),
    )

    val = df["value"].to_numpy(dtype=float)
    flag(np.isnan(val), "value", "NaN is not a reading")
    flag(np.isinf(val), "value", "infinite value")
    lo, hi = lo_p[pair_codes], hi_p[pair_codes]
    with np.errstate(invalid="ignore"):
        too_low = ~np.isnan(lo) & (val < lo)
        too_high = ~np.isnan(hi) & (val > hi)
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

    ts = _parse_times(df, registry, asset_codes, asset_ids)
    t_na = ts.isna().to_numpy()
    raw_ts = df["ts"]
    flag(
        t_na & raw_ts.notna().to_numpy(),
        "ts",
        lambda m: (
            "unparseable time: " + raw_ts[m].astype(str) + " (use ISO 8601 UTC or epoch seconds)"
        ).tolist(),
    )
    flag(t_na, "cycle", "cannot place cycle in time: unknown asset or asset type")
    limit = pd.Timestamp(now) + pd.Timedelta(seconds=max_future_seconds)
    flag(
        (ts > limit).to_numpy(),
        "ts",
        lambda m: (
            "in the future: "
            + ts[m].astype(str)
            + f" is after the server clock ({now.isoformat()})"
        ).tolist(),
    )
    flag(
        (ts < pd.Timestamp(_EPOCH_MIN, tz="UTC")).to_numpy(),
        "ts",
        "implausibly old: before 1990",
    )

    rejections = []
    if rejected.any():
        sub = df.loc[rejected]
        for k, r in zip(np.flatnonzero(rejected), sub.itertuples(index=False), strict=True):
            raw = (
                raw_records[int(r.record)]
                if raw_records is not None and r.record is not None
                else {
                    "asset_id": r.asset_id,
                    "channel": r.channel,
                    "ts": r.ts,
                    "cycle": r.cycle,
                    "value": r.value,
                }
            )
            rejections.append(
                Rejection(
                    int(r.record) if r.record is not None else None,
                    str(field[k]),
                    str(reason[k]),
                    raw,
                    source,
                    r.asset_id,
                )
            )
    good = ~rejected
    ts_naive = ts.dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
    batch = ReadingBatch(
        df["asset_id"].to_numpy(dtype=object)[good],
        channel.to_numpy(dtype=object)[good],
        ts_naive[good],
        val[good],
    )
    return batch, rejections
