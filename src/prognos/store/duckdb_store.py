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
import pandas as pd

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

    def _insert_readings(self, cur: Any, df: pd.DataFrame) -> int:
        cur.register("incoming", df)
        try:
            n = cur.execute(
                "INSERT INTO telemetry SELECT asset_id, channel, ts, value FROM incoming "
                "ON CONFLICT DO NOTHING"
            ).fetchall()[0][0]
        finally:
            cur.unregister("incoming")
        return int(n)

    def checkpoint(self) -> None:
        with self._lock:
            self._con.execute("CHECKPOINT")

    def close(self) -> None:
        with self._lock:
            self._con.close()
