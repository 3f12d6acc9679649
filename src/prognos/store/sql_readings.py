"""The SQL of one store port, telemetry: appends, range scans, downsampling; mixed into ``SqlStore``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from prognos.domain import (
    ReadingBatch,
)
from prognos.store.sql import (
    SqlBase,
    from_db_time,
    to_naive_utc,
)


class ReadingsSql(SqlBase):
    def write_readings(self, batch: ReadingBatch) -> int:
        """Store a validated batch in one transaction; returns how many were new (not duplicates)."""
        if not len(batch):
            return 0
        df = pd.DataFrame(
            {
                "asset_id": batch.asset_id,
                "channel": batch.channel,
                "ts": batch.ts.astype("datetime64[us]"),
                "value": batch.value.astype(np.float64),
            }
        )
        # Duplicates inside one batch would violate the key before ON CONFLICT sees them.
        df = df.drop_duplicates(subset=["asset_id", "channel", "ts"], keep="last")
        with self._cursor() as cur:
            return self._insert_readings(cur, df)

    def read_telemetry(self, asset_id, channels=None, start=None, end=None) -> pd.DataFrame:
        sql = "SELECT ts, channel, value FROM telemetry WHERE asset_id = ?"
        params: list[Any] = [asset_id]
        if channels:
            sql += " AND channel IN (" + ", ".join("?" for _ in channels) + ")"
            params += list(channels)
        if start is not None:
            sql += " AND ts >= ?"
            params.append(to_naive_utc(start))
        if end is not None:
            sql += " AND ts <= ?"
            params.append(to_naive_utc(end))
        sql += " ORDER BY ts, channel"
        df = self._frame(sql, params, ["ts", "channel", "value"])
        df["ts"] = pd.to_datetime(df["ts"], utc=True)
        df["value"] = df["value"].astype(float)
        return df

    def read_telemetry_many(self, asset_ids: list[str]) -> pd.DataFrame:
        """Every reading of several assets in one query (fleet scoring reads chunks of assets:
        one query each instead of one per asset), ordered by asset, time and channel."""
        cols = ["asset_id", "ts", "channel", "value"]
        if not asset_ids:
            return pd.DataFrame(columns=cols)
        marks = ", ".join("?" * len(asset_ids))
        df = self._frame(
            f"SELECT asset_id, ts, channel, value FROM telemetry WHERE asset_id IN ({marks}) "
            "ORDER BY asset_id, ts, channel",
            list(asset_ids),
            cols,
        )
        df["ts"] = pd.to_datetime(df["ts"], utc=True)
        df["value"] = df["value"].astype(float)
        return df

    def downsample(self, asset_id, channels, start, end, max_points) -> pd.DataFrame:
        """Min/max/mean per time bucket and channel, at most ``max_points`` buckets per channel."""
        lo, hi, n = self.telemetry_span(asset_id)
        if n == 0:
            return pd.DataFrame(columns=["ts", "channel", "min", "max", "mean", "count"])
        start = start or lo
        end = end or hi
        s0 = to_naive_utc(start).replace(tzinfo=UTC).timestamp()
        s1 = to_naive_utc(end).replace(tzinfo=UTC).timestamp()
        width = max((s1 - s0) / max(int(max_points), 1), 1e-6)
        ep = self._epoch("ts")
        sql = (
            f"SELECT least(floor(({ep} - ?) / ?), ?) AS b, channel, min(value), max(value), avg(value), count(*) "
            "FROM telemetry WHERE asset_id = ? AND ts >= ? AND ts <= ?"
        )
        params: list[Any] = [
            s0,
            width,
            max(int(max_points), 1) - 1,
            asset_id,
            to_naive_utc(start),
            to_naive_utc(end),
        ]
        if channels:
            sql += " AND channel IN (" + ", ".join("?" for _ in channels) + ")"
            params += list(channels)
        sql += " GROUP BY b, channel ORDER BY channel, b"
        rows = self._rows(sql, params)
        df = pd.DataFrame(rows, columns=["bucket", "channel", "min", "max", "mean", "count"])
        df["bucket"] = df["bucket"].astype(float)
        df["ts"] = pd.to_datetime(s0 + (df["bucket"] + 0.5) * width, unit="s", utc=True)
        return df.drop(columns=["bucket"])[["ts", "channel", "min", "max", "mean", "count"]]

    def telemetry_span(self, asset_id: str):
        r = self._rows(
            "SELECT min(ts), max(ts), count(*) FROM telemetry WHERE asset_id = ?", (asset_id,)
        )[0]
        return from_db_time(r[0]), from_db_time(r[1]), int(r[2])

    def last_reading_times(self, asset_ids: list[str]) -> dict[tuple[str, str], datetime]:
        """The newest stored reading's time per (asset, channel): where a connector resumes."""
        if not asset_ids:
            return {}
        marks = ", ".join("?" * len(asset_ids))
        rows = self._rows(
            f"SELECT asset_id, channel, max(ts) FROM telemetry WHERE asset_id IN ({marks}) "
            "GROUP BY asset_id, channel",
            list(asset_ids),
        )
        return {(r[0], r[1]): from_db_time(r[2]) for r in rows}

    def count_readings(self) -> int:
        return int(self._rows("SELECT count(*) FROM telemetry")[0][0])

    def channels_of(self, asset_id: str) -> list[str]:
        rows = self._rows(
            "SELECT DISTINCT channel FROM telemetry WHERE asset_id = ? ORDER BY channel",
            (asset_id,),
        )
        return [r[0] for r in rows]
