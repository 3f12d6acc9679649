"""The SQL of two small ports for several processes on one database: worker heartbeats
(``WorkersPort``) and change stamps (``StampsPort``); mixed into ``SqlStore``.

Times come from the database's clock (``timezone('UTC', now())``), so hosts whose clocks
disagree still agree on whose heartbeat is stale.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from prognos.store.sql import SqlBase, _json_load, from_db_time, to_naive_utc

NOW = "timezone('UTC', now())"
_COLS = "id, kind, host, pid, client_id, grp, started_at, heartbeat_at, state, body"


class WorkersSql(SqlBase):
    def beat(self, rows: list[dict[str, Any]]) -> None:
        """Insert or refresh worker rows (``id``, ``kind``, ``host``, ``pid``, ``client_id``,
        ``grp``, ``started_at``, ``state``, ``body``); the heartbeat is the database's now."""
        if not rows:
            return
        with self._cursor() as cur:
            for r in sorted(rows, key=lambda r: r["id"]):  # one lock order for all writers
                cur.execute(
                    self._sql(
                        f"INSERT INTO workers ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, {NOW}, ?, ?) "
                        "ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, "
                        "body = EXCLUDED.body, heartbeat_at = EXCLUDED.heartbeat_at, "
                        "client_id = EXCLUDED.client_id"
                    ),
                    (
                        r["id"],
                        r["kind"],
                        r["host"],
                        int(r["pid"]),
                        r.get("client_id"),
                        r.get("grp"),
                        to_naive_utc(r["started_at"]),
                        r["state"],
                        json.dumps(r.get("body") or {}, default=str),
                    ),
                )

    def list_workers(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every worker row with ``age_s``: seconds since its last heartbeat, by the database."""
        sql = f"SELECT {_COLS}, {NOW} FROM workers"
        params: list[Any] = []
        if kind is not None:
            sql += " WHERE kind = ?"
            params.append(kind)
        out = []
        for r in self._rows(sql + " ORDER BY id", params):
            beat, now = from_db_time(r[7]), from_db_time(r[10])
            out.append(
                {
                    "id": r[0],
                    "kind": r[1],
                    "host": r[2],
                    "pid": int(r[3]),
                    "client_id": r[4],
                    "grp": r[5],
                    "started_at": from_db_time(r[6]),
                    "heartbeat_at": beat,
                    "state": r[8],
                    "body": _json_load(r[9]) or {},
                    "age_s": max(0.0, (now - beat).total_seconds()),
                }
            )
        return out

    def forget_worker(self, worker_id: str) -> None:
        self._exec("DELETE FROM workers WHERE id = ?", (worker_id,))

    def forget_workers_older_than(self, seconds: float, keep_sessions: bool = True) -> int:
        """Delete rows whose heartbeat is older than ``seconds``; rows that own an MQTT
        session are kept unless ``keep_sessions`` is False (a survivor still has to drain it)."""
        sql = "DELETE FROM workers WHERE heartbeat_at < ?"
        if keep_sessions:
            sql += " AND client_id IS NULL"
        cutoff = self.db_now() - timedelta(seconds=seconds)
        with self._cursor() as cur:
            cur.execute(self._sql(sql), (to_naive_utc(cutoff),))
            return max(int(cur.rowcount or 0), 0)

    def db_now(self) -> datetime:
        """The database's clock (UTC)."""
        return from_db_time(self._rows(f"SELECT {NOW}")[0][0])


class StampsSql(SqlBase):
    def bump_stamp(self, name: str) -> int:
        """Advance the counter called ``name``; returns its new value."""
        with self._cursor() as cur:
            cur.execute(
                self._sql(
                    f"INSERT INTO stamps (name, version, updated_at) VALUES (?, 1, {NOW}) "
                    "ON CONFLICT (name) DO UPDATE SET version = stamps.version + 1, "
                    "updated_at = EXCLUDED.updated_at RETURNING version"
                ),
                (name,),
            )
            return int(cur.fetchone()[0])

    def stamp(self, name: str) -> int:
        """The counter called ``name`` (0 before its first bump)."""
        rows = self._rows("SELECT version FROM stamps WHERE name = ?", (name,))
        return int(rows[0][0]) if rows else 0
