"""The embedded default: one DuckDB file, one writer.

DuckDB lets a single process open a file for writing, and one connection must not be used from
two threads at once, so every call goes through one lock (datasette's single-writer pattern).
Opening a file another process holds fails with a message that says what to do instead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from prognos.domain import ReadingBatch
from prognos.errors import Conflict
from prognos.store.sql import SqlStore


class DuckDBStore(SqlStore):
    kind = "duckdb"
    json_type = "JSON"

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(self.path)
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                raise Conflict(
                    f"the database file {self.path} is open in another prognos process",
                    hint="DuckDB allows one writer: send this through the running server "
                    "(prognos serve) or stop it first; use PostgreSQL (PROGNOS_DB=postgresql://...) "
                    "for several processes",
                ) from e
            raise
        self._lock = threading.RLock()

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        with self._lock:
            cur = self._con.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                cur.close()
                raise
            cur.execute("COMMIT")
            cur.close()

    def _epoch(self, col: str) -> str:
        return f"epoch({col})"

    def write_readings(self, batch: ReadingBatch) -> int:
        """Store a validated batch in one transaction; returns how many were new.

        The batch goes to DuckDB as an Arrow table (no per-string conversion), reduced to the
        last of any reading repeated inside it, and is inserted less the readings already stored:
        an anti-join against the stored readings of the batch's time range, which zone maps keep
        to the few row groups that can hold them. All writes go through this store's lock, so
        nothing can slip in between the check and the insert.
        """
        if not len(batch):
            return 0
        table = _arrow_batch(batch, dedupe=True)
        with self._cursor() as cur:
            cur.register("incoming", table)
            lo, hi = cur.execute("SELECT min(ts), max(ts) FROM incoming").fetchone()
            n = cur.execute(
                "INSERT INTO telemetry SELECT i.asset_id, i.channel, i.ts, i.value FROM incoming i "
                "ANTI JOIN (SELECT asset_id, channel, ts FROM telemetry WHERE ts BETWEEN ? AND ?) t "
                "USING (asset_id, channel, ts)",
                [lo, hi],
            ).fetchall()[0][0]
            cur.unregister("incoming")
        return int(n)

    def _insert_rows(self, table: str, width: int, rows: list[tuple]) -> None:
        # executemany costs about a millisecond a row here; a registered frame costs one statement
        if not rows:
            return
        with self._cursor() as cur:
            names = [r[1] for r in cur.execute(f"PRAGMA table_info('{table}')").fetchall()]
            frame = pd.DataFrame(rows, columns=names[:width])
            cur.register("incoming_rows", frame)
            try:
                cur.execute(f"INSERT INTO {table} SELECT * FROM incoming_rows")
            finally:
                cur.unregister("incoming_rows")

    def checkpoint(self) -> None:
        with self._lock:
            self._con.execute("CHECKPOINT")

    def close(self) -> None:
        with self._lock:
            self._con.close()


def _arrow_batch(batch: ReadingBatch, dedupe: bool = False) -> pa.Table:
    """The batch as an Arrow table; with ``dedupe``, repeated readings reduced to the last."""
    asset = np.asarray(batch.asset_id, dtype=object)
    channel = np.asarray(batch.channel, dtype=object)
    ts = np.asarray(batch.ts).astype("datetime64[us]")
    value = np.asarray(batch.value, dtype=np.float64)
    if dedupe:
        # A reading twice in one batch is stored once, the later one winning as in a payload.
        # Checked on integer codes.
        a_codes, _ = pd.factorize(asset)
        c_codes, _ = pd.factorize(channel)
        key = pd.DataFrame(
            {
                "k": a_codes.astype(np.int64) * (int(c_codes.max()) + 1) + c_codes,
                "t": ts.view("i8"),
            }
        )
        keep = ~key.duplicated(keep="last").to_numpy()
        asset, channel, ts, value = asset[keep], channel[keep], ts[keep], value[keep]
    return pa.table(
        {
            "asset_id": pa.array(asset, pa.string()),
            "channel": pa.array(channel, pa.string()),
            "ts": pa.array(ts, pa.timestamp("us")),
            "value": pa.array(value, pa.float64()),
        }
    )
