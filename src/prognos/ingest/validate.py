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


def _parse_times(df: pd.DataFrame, registry: Registry) -> pd.Series:
    """UTC datetime64 per reading: ISO strings, epoch seconds, or cycle counted from installation."""
    ts = df["ts"]
    if isinstance(ts.dtype, pd.DatetimeTZDtype):  # already parsed upstream (simulator, loaders)
        return ts.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    out = pd.Series(pd.NaT, index=df.index, dtype="datetime64[us, UTC]")
    has_ts = ts.notna()
    if has_ts.any():
        t = ts[has_ts]
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
    cyc = df["cycle"].notna() & ~has_ts
    if cyc.any():
        assets = df.loc[cyc, "asset_id"]
        inst = assets.map({a.id: a.installed_at for a in registry.assets.values()})
        unit_s = assets.map(
            {
                a.id: registry.types[a.type_id].time_unit.seconds
                for a in registry.assets.values()
                if a.type_id in registry.types
            }
        )
        secs = pd.to_numeric(df.loc[cyc, "cycle"], errors="coerce") * unit_s.astype(float)
        ok = inst.notna() & secs.notna()
        out.loc[ok[ok].index] = pd.to_datetime(inst[ok], utc=True) + pd.to_timedelta(
            secs[ok], unit="s"
        )
    return out


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
    reason = pd.Series(None, index=df.index, dtype=object)
    field = pd.Series(None, index=df.index, dtype=object)

    def flag(mask: pd.Series, f: str, why) -> None:
        """Mark readings not yet rejected; ``why`` is a string or a function of the subset's index,
        so building messages costs nothing on the (usual) all-good path."""
        m = mask & reason.isna()
        if m.any():
            reason[m] = why if isinstance(why, str) else why(m)
            field[m] = f

    assets = registry.assets
    owner = df["asset_id"].map({a: x.customer_id for a, x in assets.items()})
    flag(
        owner.isna(),
        "asset_id",
        "unknown asset: register it first (prognos registry / POST /api/v1/assets)",
    )
    if not principal.is_manufacturer:
        # Another customer's asset is answered as unknown: its existence is not this key's business.
        flag(
            owner.notna() & (owner != principal.customer_id),
            "asset_id",
            "unknown asset for this key",
        )
    type_of = df["asset_id"].map({a: x.type_id for a, x in assets.items()})
    spec = pd.DataFrame(
        [(t.id, c.name, c.min, c.max) for t in registry.types.values() for c in t.channels],
        columns=["type_id", "channel", "lo", "hi"],
    )
    keyed = pd.DataFrame({"type_id": type_of, "channel": df["channel"]})
    merged = keyed.merge(spec, on=["type_id", "channel"], how="left", indicator=True)
    merged.index = df.index
    flag(
        merged["_merge"] != "both",
        "channel",
        lambda m: "unknown channel for this asset type: " + df["channel"][m].astype(str),
    )

    val = df["value"].astype(float)
    flag(val.isna(), "value", "NaN is not a reading")
    flag(np.isinf(val), "value", "infinite value")
    lo, hi = merged["lo"].astype(float), merged["hi"].astype(float)
    flag(
        lo.notna() & (val < lo),
        "value",
        lambda m: (
            "below the channel's valid minimum " + lo[m].astype(str) + ": " + val[m].astype(str)
        ),
    )
    flag(
        hi.notna() & (val > hi),
        "value",
        lambda m: (
            "above the channel's valid maximum " + hi[m].astype(str) + ": " + val[m].astype(str)
        ),
    )

    ts = _parse_times(df, registry)
    flag(
        ts.isna() & df["ts"].notna(),
        "ts",
        lambda m: (
            "unparseable time: " + df["ts"][m].astype(str) + " (use ISO 8601 UTC or epoch seconds)"
        ),
    )
    flag(ts.isna(), "cycle", "cannot place cycle in time: unknown asset or asset type")
    limit = pd.Timestamp(now) + pd.Timedelta(seconds=max_future_seconds)
    flag(
        ts > limit,
        "ts",
        lambda m: (
            "in the future: "
            + ts[m].astype(str)
            + f" is after the server clock ({now.isoformat()})"
        ),
    )
    flag(ts < pd.Timestamp(_EPOCH_MIN, tz="UTC"), "ts", "implausibly old: before 1990")

    bad = reason.notna()
    rejections = []
    if bad.any():
        sub = df.loc[bad]
        for idx, r in zip(sub.index, sub.itertuples(index=False), strict=True):
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
                    str(field[idx]),
                    str(reason[idx]),
                    raw,
                    source,
                    r.asset_id,
                )
            )
    good = df.loc[~bad]
    batch = ReadingBatch(
        good["asset_id"].to_numpy(dtype=object),
        good["channel"].to_numpy(dtype=object),
        ts[~bad].dt.tz_convert(None).to_numpy(dtype="datetime64[us]"),
        good["value"].to_numpy(dtype=np.float64),
    )
    return batch, rejections
