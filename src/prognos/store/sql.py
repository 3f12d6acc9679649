"""The SQL both stores share; each subclass supplies connections and a few dialect hooks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from prognos.store.schema import MIGRATIONS


def coded_frame(asset, channel, ts, value) -> pd.DataFrame:
    """The shape of ``read_telemetry_coded``: positions as int32, times, values."""
    return pd.DataFrame(
        {
            "asset": np.asarray(asset, dtype=np.int32),
            "channel": np.asarray(channel, dtype=np.int32),
            "ts": np.asarray(ts, dtype="datetime64[us]"),
            "value": np.asarray(value, dtype=float),
        }
    )


def distinct(items: list[str]) -> tuple[list[str], np.ndarray]:
    """The distinct items in order, and the position in ``items`` of each one's first occurrence."""
    first: dict[str, int] = {}
    for i, x in enumerate(items):
        first.setdefault(x, i)
    return list(first), np.array(list(first.values()), dtype=np.int64)


def to_naive_utc(t: datetime | None) -> datetime | None:
    """Timestamps are stored as naive UTC; aware ones are converted, naive ones taken as UTC."""
    if t is None:
        return None
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


def from_db_time(t: Any) -> datetime | None:
    if t is None:
        return None
    if isinstance(t, pd.Timestamp):
        t = t.to_pydatetime()
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _json_load(v: Any) -> Any:
    return json.loads(v) if isinstance(v, str | bytes) else v


_ENGINES = ("duckdb", "postgresql")
_ASSET_COLS = "id, customer_id, site_id, type_id, serial, model, installed_at, parent_id, lifecycle, retired_at"


class SqlBase:
    """What every port's SQL shares: cursors, placeholders, bulk rows, migrations; engines
    define ``_cursor``, ``json_type`` and the dialect hooks."""

    kind = "sql"
    json_type = "JSON"
    blob_type = "BLOB"

    # -- hooks ---------------------------------------------------------------------------------
    @contextmanager
    def _cursor(self) -> Iterator[Any]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    def _sql(self, sql: str) -> str:
        """Translate the ``?`` placeholders used here into the driver's style."""
        return sql

    def _epoch(self, col: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _insert_readings(self, cur: Any, df: pd.DataFrame) -> int:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- helpers -------------------------------------------------------------------------------
    def _exec(self, sql: str, params: tuple | list = ()) -> None:
        with self._cursor() as cur:
            cur.execute(self._sql(sql), params)

    def _rows(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        with self._cursor() as cur:
            cur.execute(self._sql(sql), params)
            return cur.fetchall()

    def _frame(self, sql: str, params: tuple | list, columns: list[str]) -> pd.DataFrame:
        """A query's result as a frame; engines with a columnar fetch override this."""
        return pd.DataFrame(self._rows(sql, params), columns=columns)

    def _many(self, sql: str, rows: list[tuple]) -> None:
        if rows:
            with self._cursor() as cur:
                cur.executemany(self._sql(sql), rows)

    def _insert_rows(self, table: str, width: int, rows: list[tuple]) -> None:
        """Append many rows to ``table``; engines override this with their bulk path."""
        self._many(f"INSERT INTO {table} VALUES ({', '.join('?' * width)})", rows)

    def checkpoint(self) -> None:
        """Nothing to do where the server keeps its files (DuckDB overrides this)."""

    def _upsert_rows(
        self, table: str, columns: list[str], key: list[str], rows: list[tuple]
    ) -> None:
        """Insert ``rows``, each replacing a stored row with the same ``key``, in one
        transaction; engines override this with their bulk path."""
        self._many(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
            + on_conflict_update(columns, key),
            rows,
        )

    # -- schema --------------------------------------------------------------------------------
    def _lock_migrations(self, cur: Any) -> None:
        """Keep other processes out of the migrations until this transaction ends (engines
        where several processes share one database override it)."""

    def migrate(self) -> int:
        """Apply pending migrations, all in one transaction; returns the schema version now in
        force. Processes starting together on an empty database take turns (``_lock_migrations``)."""
        with self._cursor() as cur:
            self._lock_migrations(cur)
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
            )
            cur.execute("SELECT version FROM schema_migrations")
            done = {r[0] for r in cur.fetchall()}
            for version, name, statements in MIGRATIONS:
                if version in done:
                    continue
                for st in statements:
                    engine, _, body = (
                        st.partition(":") if st.split(":", 1)[0] in _ENGINES else ("", "", st)
                    )
                    if engine in ("", self.kind):
                        cur.execute(
                            body.replace("{json}", self.json_type).replace("{blob}", self.blob_type)
                        )
                cur.execute(
                    self._sql("INSERT INTO schema_migrations VALUES (?, ?, ?)"),
                    (version, name, to_naive_utc(datetime.now(UTC))),
                )
        return max(v for v, _, _ in MIGRATIONS)

    def ping(self) -> None:
        """One round trip to the database; raises ``StoreError`` when it does not answer."""
        self._rows("SELECT 1")

    def schema_version(self) -> int:
        rows = self._rows("SELECT max(version) FROM schema_migrations")
        return int(rows[0][0] or 0)


def on_conflict_update(columns: list[str], key: list[str]) -> str:
    """``ON CONFLICT (key) DO UPDATE SET`` every other column to the incoming value."""
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in key)
    return f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
