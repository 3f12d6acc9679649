"""The embedded default: one DuckDB file, one writer.

DuckDB lets a single process open a file for writing, and one connection must not be used from
two threads at once, so every write goes through one lock (datasette's single-writer pattern);
reads run on cursors of their own, each on a snapshot of what was committed.
Opening a file another process holds fails with a message that says what to do instead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from prognos.domain import ReadingBatch
from prognos.errors import Conflict
from prognos.store.driver_errors import translated
from prognos.store.duckdb_reads import open_read_only, read_coded
from prognos.store.sql import on_conflict_update
from prognos.store.sql_activity import MARK, activity_pairs
from prognos.store.sql_quarantine import COLUMNS as QUARANTINE_COLUMNS
from prognos.store.sql_store import SqlStore

_UNKNOWN = object()  # the newest stored reading's time, before it is looked up
_MIN_US = np.iinfo(np.int64).min


class DuckDBStore(SqlStore):
    kind = "duckdb"
    json_type = "JSON"

    def __init__(self, path: str | Path, *, read_only: bool = False):
        """Open ``path``; ``read_only`` lets several processes read a file none writes to (a
        writer anywhere makes it fail: DuckDB locks the file for its writer alone)."""
        self.path = str(path)
        self._con = open_read_only(self.path) if read_only else self._open_for_writing()
        self._lock = threading.RLock()
        # Read cursors come from a connection of their own that runs nothing itself, so taking
        # one never meets a statement running on the writer's.
        self._readers = self._con.cursor()
        self._floor: int | object = _UNKNOWN  # see _newest_stored
        self._newest: dict[str, int] = {}
        self._pending: set[tuple[str, Any]] = set()  # (asset, hour) marked and not yet taken

    def _open_for_writing(self) -> Any:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            return duckdb.connect(self.path)
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                raise Conflict(
                    f"the database file {self.path} is open in another prognos process",
                    hint="DuckDB allows one writer: send this through the running server "
                    "(prognos serve) or stop it first; use PostgreSQL (PROGNOS_DB=postgresql://...) "
                    "for several processes",
                ) from e
            raise

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        with translated(self.kind), self._lock:
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

    def _rows(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        """A query, on its own cursor and outside the store's lock.

        DuckDB gives each statement a snapshot of what was committed, so reads need not queue
        behind writes: an API request's key lookup runs while another request's readings are
        being inserted, instead of after. Anything but a SELECT still takes the lock.
        """
        if sql.lstrip()[:6].upper() != "SELECT":
            return super()._rows(sql, params)
        with translated(self.kind), closing(self._readers.cursor()) as cur:
            return cur.execute(self._sql(sql), params).fetchall()

    def _epoch(self, col: str) -> str:
        return f"epoch({col})"

    def write_readings(self, batch: ReadingBatch) -> int:
        """Store a validated batch; returns how many were new.

        The batch goes to DuckDB as an Arrow table (strings dictionary-encoded: one Python string
        converted per distinct asset and channel), reduced to the last of any reading repeated
        inside it. When each of its assets' readings are newer than any stored for that asset
        (live data, the usual case) it is appended as it is; otherwise it is inserted less the
        readings already stored: an anti-join against the stored readings of the batch's time
        range, which zone maps keep to the few row groups that can hold them. Either is one
        statement, so one transaction; all writes go through this store's lock, so nothing can
        slip in between the check and the insert.
        """
        if not len(batch):
            return 0
        enc = _encode(batch)
        with translated(self.kind), self._lock, closing(self._con.cursor()) as cur:
            floor, newest = self._newest_stored(cur)
            self._floor = _UNKNOWN  # until this write is known to have gone through
            before = np.array([newest.get(a, floor) for a in enc.assets], dtype=np.int64)
            cur.execute("BEGIN TRANSACTION")
            try:
                if (enc.firsts > before).all():
                    cur.from_arrow(enc.table).insert_into("telemetry")
                    n = enc.table.num_rows
                else:
                    n = _insert_new(cur, enc.table, enc.ts.min(), enc.ts.max())
                marked = self._mark_new(cur, batch)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            self._pending.update(marked)
            newest.update(zip(enc.assets, np.maximum(before, enc.lasts).tolist(), strict=True))
            self._floor = floor
        return n

    def _write_encoded(
        self, cur: Any, enc: _Encoded, floor: int, newest: dict[str, int]
    ) -> tuple[int, np.ndarray]:
        before = np.array([newest.get(a, floor) for a in enc.assets], dtype=np.int64)
        if (enc.firsts > before).all():
            cur.from_arrow(enc.table).insert_into("telemetry")
            return enc.table.num_rows, before
        return _insert_new(cur, enc.table, enc.ts.min(), enc.ts.max()), before

    def commit_ingest(self, batch, rejections, source, customer_of=None, customer_id=None) -> int:
        """The readings (as ``write_readings`` stores them) and the rejections of a batch in
        one transaction: both are stored, or neither."""
        rows = self._quarantine_rows(rejections, source, customer_of, customer_id)
        if not len(batch):
            if rows:
                with self._cursor() as cur:
                    self._append_quarantine(cur, rows)
            return 0
        enc = _encode(batch)
        with translated(self.kind), self._lock, closing(self._con.cursor()) as cur:
            floor, newest = self._newest_stored(cur)
            self._floor = _UNKNOWN  # until this write is known to have gone through
            cur.execute("BEGIN TRANSACTION")
            try:
                n, before = self._write_encoded(cur, enc, floor, newest)
                marked = self._mark_new(cur, batch)
                self._append_quarantine(cur, rows)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            self._pending.update(marked)
            newest.update(zip(enc.assets, np.maximum(before, enc.lasts).tolist(), strict=True))
            self._floor = floor
        return n

    def _append_quarantine(self, cur: Any, rows: list[tuple]) -> None:
        # one statement from a registered frame (executemany costs about a millisecond a row)
        if not rows:
            return
        cur.register("incoming_rows", pd.DataFrame(rows, columns=QUARANTINE_COLUMNS))
        try:
            cur.execute(
                f"INSERT INTO quarantine ({', '.join(QUARANTINE_COLUMNS)}) "
                "SELECT * FROM incoming_rows"
            )
        finally:
            cur.unregister("incoming_rows")

    def _newest_stored(self, cur: Any) -> tuple[int, dict[str, int]]:
        """Microseconds since 1970 that no stored reading is later than: one bound for all
        readings stored before this store was opened (or a write failed), and one per asset
        written since. Only ``write_readings`` adds readings, so they are kept here."""
        if self._floor is _UNKNOWN:
            t = cur.execute("SELECT max(ts) FROM telemetry").fetchall()[0][0]
            self._floor = _MIN_US if t is None else int(np.datetime64(t, "us").astype(np.int64))
            self._newest = {}
        return self._floor, self._newest

    def _frame(self, sql: str, params: tuple | list, columns: list[str]) -> pd.DataFrame:
        # a columnar fetch: no Python object per value (a year of an asset's readings is
        # hundreds of thousands of them); a read, so outside the lock like ``_rows``
        with translated(self.kind), closing(self._readers.cursor()) as cur:
            df = cur.execute(self._sql(sql), params).df()
        df.columns = columns
        return df

    def read_telemetry_coded(self, asset_ids: list[str], channels: list[str]) -> pd.DataFrame:
        """``ReadingsSql.read_telemetry_coded`` with the positions computed by DuckDB
        (``duckdb_reads.read_coded``)."""
        with closing(self._readers.cursor()) as cur:
            coded = read_coded(cur, asset_ids, channels)
        return super().read_telemetry_coded(asset_ids, channels) if coded is None else coded

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

    def _upsert_rows(
        self, table: str, columns: list[str], key: list[str], rows: list[tuple]
    ) -> None:
        # one statement from a registered frame; DuckDB refuses to update a row twice in one
        # statement, so a key repeated in ``rows`` keeps its last row, as one by one would
        if not rows:
            return
        frame = pd.DataFrame(rows, columns=columns).drop_duplicates(subset=key, keep="last")
        with self._cursor() as cur:
            cur.register("incoming_rows", frame)
            try:
                cur.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) "
                    f"SELECT {', '.join(columns)} FROM incoming_rows"
                    + on_conflict_update(columns, key)
                )
            finally:
                cur.unregister("incoming_rows")

    def _mark_new(self, cur: Any, batch: ReadingBatch) -> list[tuple[str, Any]]:
        """Activity marks (``sql_activity``) for the batch's (asset, hour) pairs not marked
        since the last take or rollup: this process is the file's only writer, so a steady
        stream costs one upsert a refresh interval, not one a batch."""
        assets, hours = activity_pairs(batch.asset_id, batch.ts)
        new = [(a, h) for a, h in zip(assets, hours, strict=True) if (a, h) not in self._pending]
        if new:
            cur.execute(MARK, ([a for a, _ in new], [h for _, h in new]))
        return new

    def take_fresh_assets(self) -> list[str]:
        with self._lock:
            self._pending.clear()
            return super().take_fresh_assets()

    def roll_up(self, before, floor=None, chunk_hours: int = 24) -> int:
        with self._lock:
            self._pending.clear()
            return super().roll_up(before, floor, chunk_hours)

    def telemetry_bytes(self) -> int:
        """The whole database file (DuckDB does not size one table)."""
        rows = self._rows("SELECT total_blocks * block_size FROM pragma_database_size()")
        return int(rows[0][0] or 0)

    def checkpoint(self) -> None:
        with self._lock:
            self._con.execute("CHECKPOINT")

    def compact_telemetry(self) -> int:
        """Rewrite the readings ordered by asset and time, so each asset's rows sit together.

        Readings arrive in time order, every asset's interleaved with the others', so the zone
        maps of a row group hold most assets and a per-asset range scan reads nearly all of
        them; after the rewrite it reads the few that hold the asset. New readings append
        interleaved again: run it now and then (nightly; ``prognos store compact``). Writes
        wait while it runs; reads go on against the old table until the swap commits.
        """
        with self._lock:
            cur = self._con.cursor()
            try:
                cur.execute("BEGIN TRANSACTION")
                cur.execute(
                    "CREATE TABLE telemetry_compact (asset_id VARCHAR NOT NULL, "
                    "channel VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, value DOUBLE NOT NULL)"
                )
                cur.execute(
                    "INSERT INTO telemetry_compact SELECT asset_id, channel, ts, value "
                    "FROM telemetry ORDER BY asset_id, ts, channel"
                )
                n = cur.execute("SELECT count(*) FROM telemetry_compact").fetchone()[0]
                cur.execute("DROP TABLE telemetry")
                cur.execute("ALTER TABLE telemetry_compact RENAME TO telemetry")
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()
            self._con.execute("CHECKPOINT")  # the old table's space back now, not at exit
        return int(n)

    def close(self) -> None:
        with self._lock:
            self._readers.close()
            self._con.close()


def _insert_new(cur: Any, table: pa.Table, lo: np.datetime64, hi: np.datetime64) -> int:
    """Insert the readings of ``table`` not stored yet; returns how many."""
    cur.register("incoming", table)
    try:
        return cur.execute(
            "INSERT INTO telemetry SELECT i.asset_id, i.channel, i.ts, i.value "
            "FROM incoming i ANTI JOIN (SELECT asset_id, channel, ts FROM telemetry "
            "WHERE ts BETWEEN ? AND ?) t USING (asset_id, channel, ts)",
            [lo.item(), hi.item()],
        ).fetchall()[0][0]
    finally:
        cur.unregister("incoming")


def _strings(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """Codes, distinct values and a dictionary-encoded Arrow array of a string column."""
    codes, uniques = pd.factorize(values)
    uniques = np.asarray(uniques, dtype=object)
    array = pa.DictionaryArray.from_arrays(
        pa.array(codes.astype(np.int32)), pa.array(uniques, pa.string())
    )
    return codes, uniques, array


@dataclass
class _Encoded:
    """A batch ready for DuckDB, and the first and last time of each of its assets (in us)."""

    table: pa.Table
    ts: np.ndarray  # datetime64[us], per reading
    assets: list[str]
    firsts: np.ndarray
    lasts: np.ndarray


def _encode(batch: ReadingBatch) -> _Encoded:
    """The batch as an Arrow table, repeated readings reduced to the last."""
    a_codes, assets, asset = _strings(np.asarray(batch.asset_id, dtype=object))
    c_codes, _, channel = _strings(np.asarray(batch.channel, dtype=object))
    ts = np.asarray(batch.ts).astype("datetime64[us]")
    value = np.asarray(batch.value, dtype=np.float64)
    # A reading twice in one batch is stored once, the later one winning as in a payload.
    # Checked on one integer key per reading: (asset, channel, time) codes combined.
    t_codes, t_uniques = pd.factorize(ts.view("i8"))
    n_c, n_t = len(channel.dictionary), len(t_uniques)
    if len(assets) * n_c * n_t < 2**62:
        key = (a_codes.astype(np.int64) * n_c + c_codes) * n_t + t_codes
        dup = pd.Series(key).duplicated(keep="last").to_numpy()
    else:  # too many distinct values for one integer: compare the columns
        dup = pd.DataFrame({"a": a_codes, "c": c_codes, "t": t_codes}).duplicated(keep="last")
        dup = dup.to_numpy()
    if dup.any():
        keep = ~dup
        asset, channel = asset.filter(keep), channel.filter(keep)
        a_codes, ts, value = a_codes[keep], ts[keep], value[keep]
    us = ts.view(np.int64)
    firsts = np.full(len(assets), np.iinfo(np.int64).max)
    lasts = np.full(len(assets), _MIN_US)
    np.minimum.at(firsts, a_codes, us)
    np.maximum.at(lasts, a_codes, us)
    table = pa.table(
        {
            "asset_id": asset,
            "channel": channel,
            "ts": pa.array(ts, pa.timestamp("us")),
            "value": pa.array(value, pa.float64()),
        }
    )
    return _Encoded(table, ts, assets.tolist(), firsts, lasts)


def _arrow_batch(batch: ReadingBatch) -> pa.Table:
    """The batch as DuckDB gets it: an Arrow table, repeated readings reduced to the last."""
    return _encode(batch).table
