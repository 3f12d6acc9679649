"""PostgreSQL: for fleets that outgrow one machine and for several ingest worker processes.

Each thread gets its own connection (psycopg connections are not for concurrent use); readings
arrive through COPY into a temporary table and one ``INSERT ... ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import psycopg

from prognos.errors import StoreError
from prognos.store.sql import SqlStore

_PLACEHOLDER = re.compile(r"\?")


class PostgresStore(SqlStore):
    kind = "postgresql"
    json_type = "JSONB"

    def __init__(self, url: str):
        self.url = url
        self._local = threading.local()
        self._all: list[psycopg.Connection] = []
        self._all_lock = threading.Lock()
        self._conn()  # fail now, with a clear message, if the server is not there

    def _conn(self) -> psycopg.Connection:
        con = getattr(self._local, "con", None)
        if con is None or con.closed:
            try:
                con = psycopg.connect(self.url)
            except psycopg.OperationalError as e:
                raise StoreError(
                    f"cannot connect to PostgreSQL at {_redact(self.url)}: {str(e).strip()}",
                    hint="check that the server runs and PROGNOS_DB is right",
                ) from e
            self._local.con = con
            with self._all_lock:
                self._all.append(con)
        return con

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        con = self._conn()
        with con.transaction(), con.cursor() as cur:
            yield cur

    def _sql(self, sql: str) -> str:
        return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))

    def _epoch(self, col: str) -> str:
        return f"extract(epoch from {col})"

    def _insert_readings(self, cur: Any, df: pd.DataFrame) -> int:
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS incoming (asset_id VARCHAR, channel VARCHAR, "
            "ts TIMESTAMP, value DOUBLE PRECISION) ON COMMIT DELETE ROWS"
        )
        # one CSV block per batch: row-by-row write_row costs a Python call per reading
        block = df[["asset_id", "channel", "ts", "value"]].to_csv(
            index=False, header=False, date_format="%Y-%m-%d %H:%M:%S.%f", float_format="%.17g"
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

    def close(self) -> None:
        with self._all_lock:
            for con in self._all:
                con.close()
            self._all.clear()


def _redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)
