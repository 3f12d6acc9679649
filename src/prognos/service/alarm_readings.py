"""The rules evaluated on each committed batch of readings: threshold and rate of change.

A batch arrives as columns; each rule is one pass of numpy over the readings of its type and
channel (integer codes for assets and channels, times as microseconds), so a batch costs arrays,
not a Python object per reading. At most one condition per asset and rule comes out of a batch:
its worst reading, with how many readings crossed and when the first and last did.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from prognos.domain import ReadingBatch
from prognos.domain.alarms import (
    PER_SECONDS,
    AlarmRules,
    Condition,
    RateRule,
    Severity,
    ThresholdRule,
)


@dataclass
class Batch:
    """A batch as integer codes: ``assets[codes[i]]`` is reading i's asset."""

    assets: list[str]
    codes: np.ndarray  # int64, per reading
    channels: list[str]
    channel_codes: np.ndarray  # int64, per reading
    ts: np.ndarray  # int64 microseconds since 1970, UTC
    values: np.ndarray  # float64

    @classmethod
    def of(cls, b: ReadingBatch) -> Batch:
        codes, assets = pd.factorize(b.asset_id)
        ch_codes, channels = pd.factorize(b.channel)
        return cls(
            [str(a) for a in assets],
            codes.astype(np.int64),
            [str(c) for c in channels],
            ch_codes.astype(np.int64),
            b.ts.astype("datetime64[us]").astype(np.int64),
            np.asarray(b.value, dtype=np.float64),
        )

    def newest_per_asset(self) -> np.ndarray:
        out = np.full(len(self.assets), np.iinfo(np.int64).min)
        np.maximum.at(out, self.codes, self.ts)
        return out


class RateMemory:
    """The last reading of each (asset, channel) a rate rule watches, so a rate spans batches."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], tuple[int, float]] = {}
        self._lock = threading.Lock()

    def get(self, asset: str, channel: str) -> tuple[int, float] | None:
        with self._lock:
            return self._last.get((asset, channel))

    def put(self, asset: str, channel: str, ts: int, value: float) -> None:
        with self._lock:
            old = self._last.get((asset, channel))
            if old is None or ts >= old[0]:
                self._last[(asset, channel)] = (ts, value)


def readings_conditions(
    b: Batch, type_codes: np.ndarray, rules: list[AlarmRules | None], memory: RateMemory
) -> list[Condition]:
    """Threshold and rate conditions of a batch; ``type_codes[asset code]`` indexes ``rules``
    (-1 or None: the asset's type has no batch rules)."""
    out: list[Condition] = []
    per_reading_type = type_codes[b.codes]
    channel_of = {c: i for i, c in enumerate(b.channels)}
    for k, rs in enumerate(rules):
        if rs is None:
            continue
        of_type = per_reading_type == k
        for r in rs.of_kind("threshold", "rate"):
            if r.channel not in channel_of:
                continue
            sel = np.flatnonzero(of_type & (b.channel_codes == channel_of[r.channel]))
            if not sel.size:
                continue
            if isinstance(r, ThresholdRule):
                out += _threshold(r, b, sel, rs.clear_after(r))
            else:
                out += _rate(r, b, sel, memory, rs.clear_after(r))
    return out


def _groups(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.unique(codes, return_inverse=True)


def _threshold(r: ThresholdRule, b: Batch, sel: np.ndarray, clear_after: float) -> list[Condition]:
    v = b.values[sel]
    idx = sel[v > r.value if r.op == "above" else v < r.value]
    if not idx.size:
        return []
    u, inv = _groups(b.codes[idx])
    n = np.bincount(inv)
    worst = np.full(len(u), -np.inf if r.op == "above" else np.inf)
    (np.maximum if r.op == "above" else np.minimum).at(worst, inv, b.values[idx])
    last, first = _span(inv, len(u), b.ts[idx])
    out = []
    for j, code in enumerate(u.tolist()):
        w = float(worst[j])
        crit = r.critical is not None and (w > r.critical if r.op == "above" else w < r.critical)
        limit = float(r.critical if crit else r.value)
        out.append(
            Condition(
                asset_id=b.assets[code],
                cause=r.cause,
                rule=r.kind,
                severity=Severity.critical if crit else r.severity,
                at=_dt(last[j]),
                since=_dt(first[j]),
                message=f"{r.channel} {w:.4g} {r.op} {limit:.4g}",
                channel=r.channel,
                details={"value": w, "limit": limit, "op": r.op, "readings": int(n[j])},
                occurrences=int(n[j]),
                clear_after_s=clear_after,
            )
        )
    return out


def _rate(
    r: RateRule, b: Batch, sel: np.ndarray, memory: RateMemory, clear_after: float
) -> list[Condition]:
    idx = sel[np.lexsort((b.ts[sel], b.codes[sel]))]  # by asset, then time
    a, t, v = b.codes[idx], b.ts[idx], b.values[idx]
    m = len(idx)
    start = np.ones(m, dtype=bool)
    start[1:] = a[1:] != a[:-1]
    prev_t, prev_v = np.empty(m, dtype=np.int64), np.empty(m)
    prev_t[1:], prev_v[1:] = t[:-1], v[:-1]
    valid = ~start
    for i in np.flatnonzero(start).tolist():  # an asset's first reading here: its last before
        last = memory.get(b.assets[a[i]], r.channel)
        if last is not None:
            prev_t[i], prev_v[i], valid[i] = last[0], last[1], True
    ends = np.append(np.flatnonzero(start)[1:] - 1, m - 1)
    for i in ends.tolist():
        memory.put(b.assets[a[i]], r.channel, int(t[i]), float(v[i]))
    dt = (t - prev_t) / 1e6
    ok = valid & (dt > 0)
    rate = np.full(m, np.nan)
    rate[ok] = (v[ok] - prev_v[ok]) / dt[ok] * PER_SECONDS[r.per]
    with np.errstate(invalid="ignore"):
        fast = {"up": rate > r.rate, "down": rate < -r.rate, "either": np.abs(rate) > r.rate}[
            r.direction
        ]
    hits = np.flatnonzero(fast)
    if not hits.size:
        return []
    u, inv = _groups(a[hits])
    speed = np.abs(rate[hits])
    best = np.full(len(u), -1)
    for j, h in enumerate(hits.tolist()):  # the fastest reading of each asset (few: it alarms)
        if best[inv[j]] < 0 or speed[j] > abs(rate[best[inv[j]]]):
            best[inv[j]] = h
    n = np.bincount(inv)
    last, first = _span(inv, len(u), t[hits])
    out = []
    for j, code in enumerate(u.tolist()):
        signed = float(rate[best[j]])
        crit = r.critical is not None and abs(signed) > r.critical
        out.append(
            Condition(
                asset_id=b.assets[code],
                cause=r.cause,
                rule=r.kind,
                severity=Severity.critical if crit else r.severity,
                at=_dt(last[j]),
                since=_dt(first[j]),
                message=f"{r.channel} changing {signed:+.4g} per {r.per} (limit {r.rate:g})",
                channel=r.channel,
                details={"rate": signed, "limit": r.critical if crit else r.rate, "per": r.per},
                occurrences=int(n[j]),
                clear_after_s=clear_after,
            )
        )
    return out


def _span(inv: np.ndarray, k: int, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    last = np.full(k, np.iinfo(np.int64).min)
    first = np.full(k, np.iinfo(np.int64).max)
    np.maximum.at(last, inv, ts)
    np.minimum.at(first, inv, ts)
    return last, first


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _dt(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))
