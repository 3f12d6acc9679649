"""PostgreSQL: for fleets that outgrow one machine and for several ingest worker processes.

Each thread gets its own connection (psycopg connections are not for concurrent use); readings
arrive through COPY, straight into ``telemetry`` unless the batch meets stored readings (see
``_insert_readings``).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv

from prognos.errors import StoreError
from prognos.redact import redact
from prognos.store.driver_errors import translated
from prognos.store.sql import coded_frame, distinct
from prognos.store.sql_locks import lock_key
from prognos.store.sql_store import SqlStore

_PLACEHOLDER = re.compile(r"\?")
IDLE_PING_S = 2.0  # a connection unused this long is checked before it is trusted
CONNECT_TIMEOUT_S = 10  # a server that does not answer fails a request, not hangs it
MIGRATION_LOCK = 0x70726F676E6F73  # "prognos": the advisory lock key migrations take
_PARTITION = re.compile(r"telemetry_p(\d{4})(\d{2})")


def _add_months(month: datetime, k: int) -> datetime:
    n = month.year * 12 + month.month - 1 + k
    return datetime(n // 12, n % 12 + 1, 1)


class PostgresStore(SqlStore):
    kind = "postgresql"
    json_type = "JSONB"
    blob_type = "BYTEA"

    def __init__(self, url: str):
        self.url = url
        self._local = threading.local()
        self._all: list[psycopg.Connection] = []
        self._all_lock = threading.Lock()
        self._conn()  # fail now, with a clear message, if the server is not there

    def _conn(self) -> psycopg.Connection:
        """This thread's connection; a closed or broken one (the server restarted, the
        network dropped it) is replaced by a new one here. One idle for a while is asked a
        ``SELECT 1`` first, so a restart while this process was quiet costs no request."""
        con = getattr(self._local, "con", None)
        now = time.monotonic()
        if (
            con is not None
            and not con.closed
            and now - getattr(self._local, "used", now) > IDLE_PING_S
        ):
            try:
                con.execute("SELECT 1")
                con.rollback()
            except psycopg.Error:
                self._forget(con)
                con = None
        self._local.used = now
        if con is None or con.closed or con.broken:
            if con is not None:
                self._forget(con)
            try:
                con = psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S)
            except psycopg.OperationalError as e:
                raise StoreError(
                    f"cannot connect to PostgreSQL at {redact(self.url)}: {str(e).strip()}",
                    hint="check that the server runs and PROGNOS_DB is right",
                ) from e
            self._local.con = con
            with self._all_lock:
                self._all.append(con)
        return con

    def _forget(self, con: psycopg.Connection) -> None:
        with self._all_lock:
            if con in self._all:
                self._all.remove(con)
        if not con.closed:
            con.close()

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        """A transaction on this thread's connection. A driver error leaves as a
        ``PrognosError`` (``driver_errors``); one that broke the connection drops it, so the
        next call reconnects instead of failing the same way forever."""
        con = self._conn()
        try:
            with translated(self.kind), con.transaction(), con.cursor() as cur:
                yield cur
        finally:
            if con.broken or con.closed:
                self._forget(con)
                self._local.con = None

    def try_lease(self, name: str) -> PgLease | None:
        """The lease called ``name`` if no other session holds it (never waits)."""
        try:
            con = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.OperationalError as e:
            raise StoreError(
                f"cannot connect to PostgreSQL at {redact(self.url)}: {str(e).strip()}",
                hint="check that the server runs and PROGNOS_DB is right",
            ) from e
        got = con.execute("SELECT pg_try_advisory_lock(%s)", (lock_key(name),)).fetchone()[0]
        if not got:
            con.close()
            return None
        with self._all_lock:
            self._all.append(con)  # closed with the store at the latest
        return PgLease(name, con)

    def _lock_migrations(self, cur: Any) -> None:
        # a transaction-level advisory lock: a second process waits here, then finds the
        # migrations applied (two on an empty database raced into UniqueViolation before)
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))

    def _sql(self, sql: str) -> str:
        return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))

    def _epoch(self, col: str) -> str:
        return f"extract(epoch from {col})"

    def _insert_readings(self, cur: Any, df: pd.DataFrame) -> int:
        """COPY straight into ``telemetry``; only a batch that meets stored readings (a
        redelivery, a resent payload: the key refuses it, and a savepoint undoes the COPY) goes
        through a temporary table and ``INSERT ... ON CONFLICT DO NOTHING``. Fresh readings
        are nearly all of them, and the detour costs the server more than the COPY."""
        block = _csv_block(df)
        try:
            with (
                cur.connection.transaction(),  # a savepoint
                cur.copy(
                    "COPY telemetry (asset_id, channel, ts, value) FROM STDIN (FORMAT csv)"
                ) as copy,
            ):
                copy.write(block)
            return len(df)
        except psycopg.errors.UniqueViolation:
            pass
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS incoming (asset_id VARCHAR, channel VARCHAR, "
            "ts TIMESTAMP, value DOUBLE PRECISION) ON COMMIT DELETE ROWS"
        )
        with cur.copy(
            "COPY incoming (asset_id, channel, ts, value) FROM STDIN (FORMAT csv)"
        ) as copy:
            copy.write(block)
        cur.execute(
            "INSERT INTO telemetry SELECT asset_id, channel, ts, value FROM incoming "
            "ON CONFLICT DO NOTHING"
        )
        return int(cur.rowcount)

    def read_telemetry_coded(self, asset_ids: list[str], channels: list[str]) -> pd.DataFrame:
        """``ReadingsSql.read_telemetry_coded`` with the positions computed by the server and
        the rows streamed by COPY as CSV, which Arrow parses: no Python object per reading."""
        wanted, pos = distinct(asset_ids)
        chans, cpos = distinct(channels)
        if not wanted or not chans:
            return super().read_telemetry_coded(asset_ids, channels)
        sql = (
            "COPY (SELECT array_position(%s::text[], asset_id) - 1, "
            "array_position(%s::text[], channel) - 1, ts, value FROM telemetry "
            "WHERE asset_id = ANY(%s) AND channel = ANY(%s)) TO STDOUT (FORMAT csv)"
        )
        with self._cursor() as cur, cur.copy(sql, (wanted, chans, wanted, chans)) as copy:
            data = b"".join(bytes(block) for block in copy)
        if not data:
            return super().read_telemetry_coded([], channels)
        names = ["asset", "channel", "ts", "value"]
        types = [pa.int32(), pa.int32(), pa.timestamp("us"), pa.float64()]
        table = pa_csv.read_csv(
            pa.BufferReader(data),
            read_options=pa_csv.ReadOptions(column_names=names),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict(zip(names, types, strict=True))
            ),
        )
        return coded_frame(
            pos[table["asset"].to_numpy()],
            cpos[table["channel"].to_numpy()],
            table["ts"].to_numpy(),
            table["value"].to_numpy(),
        )

    def compact_telemetry(self) -> int:
        """Rewrite the readings in key order (asset, channel, time) with CLUSTER, so an asset's
        rows share pages again after interleaved appends; the table is locked while it runs."""
        # CLUSTER of a partitioned table clusters each month, outside a transaction block
        with psycopg.connect(self.url, autocommit=True) as con:
            con.execute("CLUSTER telemetry USING telemetry_pkey")
            con.execute("ANALYZE telemetry")
            return int(con.execute("SELECT count(*) FROM telemetry").fetchone()[0])

    # -- partitions: one a month (migration 8) ------------------------------------------------
    def _partition_months(self, cur: Any) -> dict[datetime, str]:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'telemetry'::regclass"
        )
        out = {}
        for (name,) in cur.fetchall():
            m = _PARTITION.fullmatch(name)
            if m:
                out[datetime(int(m[1]), int(m[2]), 1)] = name
        return out

    def ensure_partitions(self, months_ahead: int = 2) -> list[str]:
        """Create the months from this one to ``months_ahead`` ahead, and a month for readings
        that landed in the default partition (moved there in the same transaction)."""
        created = []
        with self._cursor() as cur:
            have = self._partition_months(cur)
            cur.execute("SELECT DISTINCT date_trunc('month', ts) FROM telemetry_default")
            stray = {r[0] for r in cur.fetchall()}
        now = datetime.now(UTC).replace(tzinfo=None)
        month = datetime(now.year, now.month, 1)
        wanted = {_add_months(month, k) for k in range(months_ahead + 1)} | stray
        for lo in sorted(wanted - set(have)):
            hi = _add_months(lo, 1)
            name = f"telemetry_p{lo:%Y%m}"
            with self._cursor() as cur:
                cur.execute(f"CREATE TABLE {name} (LIKE telemetry INCLUDING DEFAULTS)")
                cur.execute(
                    f"INSERT INTO {name} SELECT * FROM telemetry_default WHERE ts >= %s AND ts < %s",
                    (lo, hi),
                )
                cur.execute("DELETE FROM telemetry_default WHERE ts >= %s AND ts < %s", (lo, hi))
                cur.execute(
                    f"ALTER TABLE telemetry ATTACH PARTITION {name} "
                    f"FOR VALUES FROM ('{lo.isoformat()}') TO ('{hi.isoformat()}')"
                )
            created.append(name)
        return created

    def drop_partitions(self, before: datetime) -> list[str]:
        """Drop the months that end at or before ``before``: retention in one statement each."""
        before = before.astimezone(UTC).replace(tzinfo=None) if before.tzinfo else before
        dropped = []
        with self._cursor() as cur:
            months = self._partition_months(cur)
        for lo, name in sorted(months.items()):
            if _add_months(lo, 1) <= before:
                with self._cursor() as cur:
                    cur.execute(f"DROP TABLE {name}")
                dropped.append(name)
        return dropped

    def partitions(self) -> list[tuple[str, int]]:
        """(partition, bytes on disk with its indexes), oldest first, the default one last."""
        rows = self._rows(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'telemetry'::regclass "
            "ORDER BY c.relname = 'telemetry_default', c.relname"
        )
        return [(r[0], int(r[1])) for r in rows]

    def telemetry_bytes(self) -> int:
        return sum(n for _, n in self.partitions())

    def close(self) -> None:
        with self._all_lock:
            for con in self._all:
                con.close()
            self._all.clear()


class PgLease:
    """An advisory lock held on a connection of its own (see ``sql_locks``)."""

    def __init__(self, name: str, con: psycopg.Connection):
        self.name = name
        self._con = con

    def held(self) -> bool:
        if self._con.closed:
            return False
        try:
            self._con.execute("SELECT 1")
            return True
        except psycopg.Error:
            self._con.close()
            return False

    def release(self) -> None:
        if not self._con.closed:
            self._con.close()  # closing the session frees its advisory locks


def _csv_block(df: pd.DataFrame) -> memoryview:
    """The readings as one CSV block, written by Arrow: pandas' to_csv cost 6.6 µs a reading
    (more than all the rest of the ingest path), Arrow's writer 1.2 µs. Doubles come out in
    their shortest exact form, timestamps as 'YYYY-MM-DD hh:mm:ss.ffffff'."""
    table = pa.table(
        {
            "asset_id": pa.array(df["asset_id"].to_numpy(object), pa.string()),
            "channel": pa.array(df["channel"].to_numpy(object), pa.string()),
            "ts": pa.array(df["ts"].to_numpy("datetime64[us]")),
            "value": pa.array(df["value"].to_numpy(np.float64)),
        }
    )
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=False))
    return memoryview(sink.getvalue())
