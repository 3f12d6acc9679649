"""Samples of the mapped OPC UA nodes on their way out: good numeric ones, each node's newer
than the last it handed over (a resubscription repeats the last values), in arrival order.

The timestamp is the server's source timestamp in microseconds, exactly (a float timestamp
loses the last digit, and with it the order of samples a microsecond apart).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from asyncua import ua

from prognos.domain import ReadingBatch
from prognos.ingest.opcua_mapping import Mapping

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(t: datetime) -> int:
    """Microseconds since the epoch, exactly."""
    td = t - EPOCH
    return (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds


class SampleBuffer:
    def __init__(
        self,
        mapping: Mapping,
        counters: dict[str, int],
        *,
        max_batch: int,
        max_pending: int,
        resume: dict[int, datetime] | None = None,
    ):
        self.counters = counters
        self.max_batch = max_batch
        self.max_pending = max_pending
        self._assets = np.array([it.asset for it in mapping.items], dtype=object)
        self._channels = np.array([it.channel for it in mapping.items], dtype=object)
        # µs since epoch of the last sample handed over, per item
        self.last_ts = [-(2**62)] * len(mapping.items)
        for i, t in (resume or {}).items():
            self.last_ts[i] = micros(t)
        self._idx: list[int] = []
        self._ts: list[int] = []
        self._val: list[float] = []
        self.last_data_at: datetime | None = None
        self.last_sample_ts: datetime | None = None

    def __len__(self) -> int:
        return len(self._idx)

    @property
    def full(self) -> bool:
        return len(self._idx) >= self.max_batch

    def accept(self, idx: int, dv: ua.DataValue) -> bool:
        """Buffer one sample unless it is bad, not a number, or not newer than the last one."""
        c = self.counters
        if dv.StatusCode is not None and not dv.StatusCode.is_good():
            c["bad_quality"] += 1
            return False
        v = dv.Value.Value if dv.Value is not None else None
        if not isinstance(v, int | float):
            c["not_numeric"] += 1
            return False
        t = dv.SourceTimestamp or dv.ServerTimestamp or datetime.now(UTC)
        if t.tzinfo is None:
            t = t.replace(tzinfo=UTC)
        ts = micros(t)
        if ts <= self.last_ts[idx]:
            c["duplicates_dropped"] += 1
            return False
        self.last_ts[idx] = ts
        if len(self._idx) >= self.max_pending:
            c["dropped_overflow"] += 1
            return False
        self._idx.append(idx)
        self._ts.append(ts)
        self._val.append(float(v))
        self.last_data_at = datetime.now(UTC)
        if self.last_sample_ts is None or t > self.last_sample_ts:
            self.last_sample_ts = t
        return True

    def take(self) -> ReadingBatch | None:
        """Everything buffered as one batch (None when empty); the buffer starts over."""
        if not self._idx:
            return None
        idx = np.array(self._idx, dtype=np.int64)
        batch = ReadingBatch(
            self._assets[idx],
            self._channels[idx],
            np.array(self._ts, dtype="datetime64[us]"),
            np.array(self._val, dtype=np.float64),
        )
        self._idx, self._ts, self._val = [], [], []
        return batch
