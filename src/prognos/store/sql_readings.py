"""The SQL of one store port, telemetry: appends, range scans, downsampling; mixed into ``SqlStore``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from prognos.domain import ReadingBatch
from prognos.store.sql import (
    coded_frame,
    from_db_time,
    to_naive_utc,
)
from prognos.store.sql_activity import ActivitySql


def readings_frame(batch: ReadingBatch) -> pd.DataFrame:
    """A batch as the rows ``_insert_readings`` takes, a reading repeated in it kept once
    (the last): duplicates inside one batch would violate the key before ON CONFLICT sees them."""
    df = pd.DataFrame(
        {
            "asset_id": batch.asset_id,
            "channel": batch.channel,
            "ts": batch.ts.astype("datetime64[us]"),
            "value": batch.value.astype(np.float64),
        }
    )
    return df.drop_duplicates(subset=["asset_id", "channel", "ts"], keep="last")


class ReadingsSql(ActivitySql):
    def write_readings(self, batch: ReadingBatch) -> int:
        """Store a validated batch in one transaction; returns how many were new (not duplicates)."""
        if not len(batch):
            return 0
        df = readings_frame(batch)
        with self._cursor() as cur:
            n = self._insert_readings(cur, df)
            # last, so the rows it locks (other writers of these assets wait) are held briefly
            self._mark_activity(cur, df["asset_id"].to_numpy(object), df["ts"].to_numpy())
            return n

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

    def read_telemetry_coded(self, asset_ids: list[str], channels: list[str]) -> pd.DataFrame:
        """Every reading of these assets on these channels, for fleet scoring: ``asset`` and
        ``channel`` as positions in the two lists, ``ts`` (datetime64[us], UTC) and ``value``,
        in no particular order (sorting is the caller's, on numbers, not strings)."""
        if not asset_ids or not channels:
            return coded_frame([], [], np.zeros(0, "datetime64[us]"), [])
        df = self._frame(
            f"SELECT asset_id, channel, ts, value FROM telemetry "
            f"WHERE asset_id IN ({', '.join('?' * len(asset_ids))}) "
            f"AND channel IN ({', '.join('?' * len(channels))})",
            [*asset_ids, *channels],
            ["asset_id", "channel", "ts", "value"],
        )
        ts = pd.to_datetime(df["ts"], utc=True).dt.tz_localize(None).to_numpy("datetime64[us]")
        return coded_frame(
            pd.Index(asset_ids).get_indexer(df["asset_id"]),
            pd.Index(channels).get_indexer(df["channel"]),
            ts,
            df["value"].to_numpy(dtype=float),
        )

    def downsample(self, asset_id, channels, start, end, max_points) -> pd.DataFrame:
        """Min/max/mean per time bucket and channel, at most ``max_points`` buckets per channel.

        Buckets an hour wide or wider read the hourly rollups for the hours they cover and the
        raw readings only after them (the hours not rolled up yet), so a chart over years reads
        thousands of rows, not millions, and still answers once retention dropped the raw
        readings. Narrower buckets read the raw readings."""
        lo, hi, n = self.telemetry_span(asset_id)
        cols = ["ts", "channel", "min", "max", "mean", "count"]
        if n == 0:
            return pd.DataFrame(columns=cols)
        start = start or lo
        end = end or hi
        s0 = to_naive_utc(start).replace(tzinfo=UTC).timestamp()
        s1 = to_naive_utc(end).replace(tzinfo=UTC).timestamp()
        buckets = max(int(max_points), 1)
        width = max((s1 - s0) / buckets, 1e-6)
        parts = []
        raw_from = start
        if width >= 3600:
            until = self.rolled_until(asset_id)
            if until is None:
                _, last_hour, _ = self.hourly_span(asset_id)
                until = last_hour + _HOUR if last_hour else None
            if until is not None and until > start:
                upto = min(until, _floor_hour(end) + _HOUR)  # the hour of ``end`` included
                h = self.hourly(asset_id, channels, _floor_hour(start), upto)
                if len(h):
                    secs = pd.to_datetime(h["hour"]).astype("datetime64[us]").astype("int64") / 1e6
                    h["b"] = np.clip(np.floor((secs - s0) / width), 0, buckets - 1)
                    parts.append(h.drop(columns="hour"))
                raw_from = max(start, until)
        if raw_from <= end:
            ep = self._epoch("ts")
            sql = (
                f"SELECT least(floor(({ep} - ?) / ?), ?) AS b, channel, count(*), min(value), "
                "max(value), sum(value) FROM telemetry WHERE asset_id = ? AND ts >= ? AND ts <= ?"
            )
            params: list[Any] = [s0, width, buckets - 1, asset_id]
            params += [to_naive_utc(raw_from), to_naive_utc(end)]
            if channels:
                sql += " AND channel IN (" + ", ".join("?" for _ in channels) + ")"
                params += list(channels)
            rows = self._rows(sql + " GROUP BY b, channel", params)
            parts.append(pd.DataFrame(rows, columns=["b", "channel", "n", "vmin", "vmax", "vsum"]))
        parts = [p for p in parts if len(p)]
        if not parts:
            return pd.DataFrame(columns=cols)
        df = pd.concat(parts, ignore_index=True)
        for c in ("b", "n", "vmin", "vmax", "vsum"):
            df[c] = df[c].astype(float)
        g = df.groupby(["channel", "b"], sort=True).agg(
            min=("vmin", "min"), max=("vmax", "max"), s=("vsum", "sum"), count=("n", "sum")
        )
        g = g.reset_index()
        g["mean"] = g["s"] / g["count"]
        g["ts"] = pd.to_datetime(s0 + (g["b"] + 0.5) * width, unit="s", utc=True)
        return g[cols]

    def telemetry_span(self, asset_id: str):
        """First and last reading time and how many: the raw readings, and before them the
        hourly rollups of readings that retention dropped."""
        r = self._rows(
            "SELECT min(ts), max(ts), count(*) FROM telemetry WHERE asset_id = ?", (asset_id,)
        )[0]
        lo, hi, n = from_db_time(r[0]), from_db_time(r[1]), int(r[2])
        h_lo, h_hi, _ = self.hourly_span(asset_id)
        if h_lo is None or (lo is not None and h_lo >= _floor_hour(lo)):
            return lo, hi, n
        older = self._rows(
            "SELECT sum(n) FROM telemetry_hourly WHERE asset_id = ? AND hour < ?",
            (asset_id, to_naive_utc(_floor_hour(lo)) if lo else to_naive_utc(h_hi) + _HOUR),
        )[0][0]
        return h_lo, hi or h_hi + _HOUR, n + int(older or 0)

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

    def last_seen(self, asset_ids: list[str] | None = None) -> dict[str, datetime]:
        """The newest stored reading's time of each asset (all assets that have one, or these):
        when it was last seen, what "offline" is judged by."""
        if asset_ids is not None and not asset_ids:
            return {}
        where, params = "", []
        if asset_ids is not None:
            where = f" WHERE asset_id IN ({', '.join('?' * len(asset_ids))})"
            params = list(asset_ids)
        rows = self._rows(
            f"SELECT asset_id, max(ts) FROM telemetry{where} GROUP BY asset_id", params
        )
        return {r[0]: from_db_time(r[1]) for r in rows}

    def reading_gaps(self, asset_ids: list[str], last: int = 200) -> list[float]:
        """Seconds between consecutive time stamps of each asset's newest ``last`` readings
        (any channel), pooled: how often assets of a kind report, where none is declared."""
        if not asset_ids:
            return []
        marks = ", ".join("?" * len(asset_ids))
        rows = self._rows(
            "SELECT asset_id, ts FROM (SELECT asset_id, ts, row_number() OVER (PARTITION BY "
            "asset_id ORDER BY ts DESC) AS rn FROM (SELECT DISTINCT asset_id, ts FROM telemetry "
            f"WHERE asset_id IN ({marks})) d) t WHERE rn <= {int(last)} ORDER BY asset_id, ts",
            list(asset_ids),
        )
        gaps: list[float] = []
        prev: tuple[str, datetime] | None = None
        for a, ts in rows:
            t = from_db_time(ts)
            if prev is not None and prev[0] == a:
                gaps.append((t - prev[1]).total_seconds())
            prev = (a, t)
        return gaps

    def count_readings(self, distinct: bool = False) -> int:
        """How many readings are stored (``distinct``: how many different keys among them,
        which differs only where the engine keeps no key)."""
        if distinct:
            sql = "SELECT count(*) FROM (SELECT DISTINCT asset_id, channel, ts FROM telemetry) d"
            return int(self._rows(sql)[0][0])
        return int(self._rows("SELECT count(*) FROM telemetry")[0][0])

    def channels_of(self, asset_id: str) -> list[str]:
        rows = self._rows(
            "SELECT DISTINCT channel FROM telemetry WHERE asset_id = ? ORDER BY channel",
            (asset_id,),
        )
        return [r[0] for r in rows]


_HOUR = timedelta(hours=1)


def _floor_hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)
