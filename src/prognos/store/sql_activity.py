"""The SQL of telemetry that grows for years: which assets got readings (activity marks),
hourly rollups, retention; mixed into ``SqlStore``.

Every write of readings marks (asset, hour) in ``telemetry_activity`` in its own transaction.
The marks are how work finds its way between processes: a forecast refresher in any ``serve``
takes the ``fresh`` ones (readings stored by any ingest worker), the rollup takes the unrolled
ones. A mark is set only when it is not pending already, so a steady stream rewrites nothing;
a taker clears marks and reads in one go, so a write that commits after it marks again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from prognos.store.sql import SqlBase, from_db_time, to_naive_utc

NOW = "timezone('UTC', now())"
# (asset, hour) pairs from two array parameters, zipped (both engines unnest in parallel)
PAIRS = (
    "(SELECT unnest(CAST(? AS VARCHAR[])) AS asset_id, unnest(CAST(? AS TIMESTAMP[])) AS hour) p"
)
MARK = (
    "INSERT INTO telemetry_activity (asset_id, hour, written_at, fresh, rolled) "
    f"SELECT asset_id, hour, {NOW}, true, false FROM {PAIRS} ORDER BY asset_id, hour "
    "ON CONFLICT (asset_id, hour) DO UPDATE SET written_at = EXCLUDED.written_at, "
    "fresh = true, rolled = false WHERE NOT telemetry_activity.fresh OR telemetry_activity.rolled"
)
ROLL = (
    "INSERT INTO telemetry_hourly (asset_id, channel, hour, n, vmin, vmax, vsum) "
    "SELECT t.asset_id, t.channel, p.hour, count(*), min(t.value), max(t.value), sum(t.value) "
    f"FROM telemetry t JOIN {PAIRS} ON t.asset_id = p.asset_id AND t.ts >= p.hour "
    "AND t.ts < p.hour + INTERVAL '1 hour' WHERE t.ts >= ? AND t.ts < ? "
    "GROUP BY t.asset_id, t.channel, p.hour "
    "ON CONFLICT (asset_id, channel, hour) DO UPDATE SET n = EXCLUDED.n, vmin = EXCLUDED.vmin, "
    "vmax = EXCLUDED.vmax, vsum = EXCLUDED.vsum"
)


def activity_pairs(asset_id: np.ndarray, ts: np.ndarray) -> tuple[list[str], list[datetime]]:
    """The distinct (asset, hour) pairs of a batch, sorted (one lock order for all writers).
    Numpy over codes: a batch of 40,000 readings holds about a thousand pairs, and only those
    become Python objects."""
    codes, assets = pd.factorize(np.asarray(asset_id, dtype=object))
    hours = np.asarray(ts).astype("datetime64[us]").astype("datetime64[h]").astype(np.int64)
    if not len(hours):
        return [], []
    h0 = int(hours.min())
    span = int(hours.max()) - h0 + 1
    pairs = pd.unique(codes.astype(np.int64) * span + (hours - h0))
    a, h = np.divmod(pairs, span)
    when = (h + h0).astype("datetime64[h]").astype("datetime64[us]").astype(datetime).tolist()
    out = sorted(zip([assets[i] for i in a.tolist()], when, strict=True))
    return [x for x, _ in out], [t for _, t in out]


class ActivitySql(SqlBase):
    # -- marks (inside a write of readings) ----------------------------------------------------
    def _mark_activity(self, cur: Any, asset_id: np.ndarray, ts: np.ndarray) -> None:
        assets, hours = activity_pairs(asset_id, ts)
        if assets:
            cur.execute(self._sql(MARK), (assets, hours))

    # -- forecast refresh ----------------------------------------------------------------------
    def take_fresh_assets(self) -> list[str]:
        """Assets with readings stored since the last take, by any process; their marks are
        cleared in the same statement (readings committed later mark them again)."""
        rows = self._rows(
            "UPDATE telemetry_activity SET fresh = false WHERE fresh RETURNING asset_id"
        )
        return sorted({r[0] for r in rows})

    def refresh_backlog(self) -> tuple[int, float]:
        """(assets waiting for a forecast refresh, seconds the oldest of them has waited)."""
        n, oldest, now = self._rows(
            f"SELECT count(DISTINCT asset_id), min(written_at), {NOW} FROM telemetry_activity "
            "WHERE fresh"
        )[0]
        if not n or oldest is None:
            return 0, 0.0
        return int(n), max(0.0, (from_db_time(now) - from_db_time(oldest)).total_seconds())

    # -- hourly rollups ------------------------------------------------------------------------
    def roll_up(
        self, before: datetime, floor: datetime | None = None, chunk_hours: int = 24
    ) -> int:
        """Build the hourly rollups of every marked hour before ``before``, oldest first, in
        chunks of ``chunk_hours``; returns how many (asset, hour) pairs were rolled. Hours
        before ``floor`` (raw readings expired) keep the rollup they have."""
        before = to_naive_utc(before)
        if floor is not None:
            self._exec(
                "UPDATE telemetry_activity SET rolled = true WHERE NOT rolled AND hour < ?",
                (to_naive_utc(floor),),
            )
        total = 0
        while True:
            lo = self._rows(
                "SELECT min(hour) FROM telemetry_activity WHERE NOT rolled AND hour < ?", (before,)
            )[0][0]
            if lo is None:
                return total
            lo = to_naive_utc(from_db_time(lo))
            hi = min(before, lo + timedelta(hours=chunk_hours))
            with self._cursor() as cur:
                # one transaction: a writer of these hours waits for it, then marks them again
                cur.execute(
                    self._sql(
                        "UPDATE telemetry_activity SET rolled = true WHERE NOT rolled "
                        "AND hour >= ? AND hour < ? RETURNING asset_id, hour"
                    ),
                    (lo, hi),
                )
                picked = cur.fetchall()
                if picked:
                    cur.execute(
                        self._sql(ROLL),
                        (
                            [r[0] for r in picked],
                            [to_naive_utc(from_db_time(r[1])) for r in picked],
                            lo,
                            hi,
                        ),
                    )
            total += len(picked)

    def hourly(
        self,
        asset_id: str,
        channels: list[str] | None,
        start: datetime | None,
        end: datetime | None,
    ) -> pd.DataFrame:
        """Rollup rows (hour, channel, n, vmin, vmax, vsum) of an asset, hours in [start, end)."""
        sql = "SELECT hour, channel, n, vmin, vmax, vsum FROM telemetry_hourly WHERE asset_id = ?"
        params: list[Any] = [asset_id]
        if start is not None:
            sql += " AND hour >= ?"
            params.append(to_naive_utc(start))
        if end is not None:
            sql += " AND hour < ?"
            params.append(to_naive_utc(end))
        if channels:
            sql += " AND channel IN (" + ", ".join("?" for _ in channels) + ")"
            params += list(channels)
        return pd.DataFrame(
            self._rows(sql + " ORDER BY hour, channel", params),
            columns=["hour", "channel", "n", "vmin", "vmax", "vsum"],
        )

    def rolled_until(self, asset_id: str) -> datetime | None:
        """The first hour of an asset whose rollup is not built yet (None: all are built)."""
        r = self._rows(
            "SELECT min(hour) FROM telemetry_activity WHERE asset_id = ? AND NOT rolled",
            (asset_id,),
        )[0][0]
        return from_db_time(r)

    def hourly_span(self, asset_id: str) -> tuple[datetime | None, datetime | None, int]:
        r = self._rows(
            "SELECT min(hour), max(hour), sum(n) FROM telemetry_hourly WHERE asset_id = ?",
            (asset_id,),
        )[0]
        return from_db_time(r[0]), from_db_time(r[1]), int(r[2] or 0)

    # -- retention -----------------------------------------------------------------------------
    def expire_readings(self, before: datetime, type_ids: list[str] | None = None) -> int:
        """Delete raw readings older than ``before`` (of assets of ``type_ids``, else all);
        returns how many. Partitioned stores drop whole months first (``drop_partitions``)."""
        sql = "DELETE FROM telemetry WHERE ts < ?"
        params: list[Any] = [to_naive_utc(before)]
        if type_ids is not None:
            if not type_ids:
                return 0
            sql += (
                " AND asset_id IN (SELECT id FROM assets WHERE type_id IN ("
                + ", ".join("?" * len(type_ids))
                + "))"
            )
            params += type_ids
        with self._cursor() as cur:
            cur.execute(self._sql(sql), params)
            return max(int(cur.rowcount or 0), 0)

    def expire_rollups(self, before: datetime) -> int:
        with self._cursor() as cur:
            cur.execute(
                self._sql("DELETE FROM telemetry_hourly WHERE hour < ?"), (to_naive_utc(before),)
            )
            return max(int(cur.rowcount or 0), 0)

    def prune_activity(self, before: datetime) -> int:
        """Forget marks nobody waits for (refreshed and rolled) written before ``before``."""
        with self._cursor() as cur:
            cur.execute(
                self._sql(
                    "DELETE FROM telemetry_activity WHERE rolled AND NOT fresh AND written_at < ?"
                ),
                (to_naive_utc(before),),
            )
            return max(int(cur.rowcount or 0), 0)

    def unrolled_before(self, before: datetime) -> int:
        """How many (asset, hour) marks before ``before`` still wait for their rollup."""
        return int(
            self._rows(
                "SELECT count(*) FROM telemetry_activity WHERE NOT rolled AND hour < ?",
                (to_naive_utc(before),),
            )[0][0]
        )

    # -- partitions (PostgreSQL overrides; the embedded store has none) ------------------------
    def ensure_partitions(self, months_ahead: int = 2) -> list[str]:
        return []

    def drop_partitions(self, before: datetime) -> list[str]:
        return []

    def telemetry_bytes(self) -> int:
        """Disk the raw readings take (table and indexes)."""
        return 0
