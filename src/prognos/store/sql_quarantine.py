"""The SQL of one store port, rejected records with their reasons; mixed into ``SqlStore``.

A batch's readings and its rejections are written in one transaction (``commit_ingest``): a
request answers either with both stored or with neither. Every row names the customer it
counts against, so each customer's quarantine has a quota and a retention of its own
(``trim_quarantine``); rows of the manufacturer's own keys that name no asset count as the
customer ``None``.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from prognos.domain import ReadingBatch, Rejection
from prognos.store.sql import SqlBase, from_db_time, to_naive_utc
from prognos.store.sql_readings import readings_frame

RAW_LIMIT = 100_000  # characters of a rejected record's raw text kept
COLUMNS = [
    "id",
    "received_at",
    "source",
    "record_index",
    "asset_id",
    "customer_id",
    "field",
    "reason",
    "raw",
]


def clean_text(v: Any, limit: int | None = None) -> str | None:
    """Text any database stores: lone surrogates and NUL (PostgreSQL refuses both) replaced."""
    if v is None:
        return None
    s = v if isinstance(v, str) else json.dumps(v, default=str)
    if limit is not None:
        s = s[:limit]
    s = s.encode("utf-8", "replace").decode("utf-8")
    return s.replace("\x00", "\ufffd")


class QuarantineSql(SqlBase):
    def _quarantine_rows(
        self,
        rejections: list[Rejection],
        source: str,
        customer_of: dict[str, str] | None,
        customer_id: str | None,
    ) -> list[tuple]:
        now = to_naive_utc(datetime.now(UTC))
        customer_of = customer_of or {}
        return [
            (
                uuid.uuid4().hex,
                now,
                clean_text(r.source or source, 200),
                r.index if r.index is None or abs(r.index) < 2**31 else None,
                clean_text(r.asset_id, 200),
                customer_id if customer_id is not None else customer_of.get(r.asset_id or ""),
                clean_text(r.field, 200),
                clean_text(r.reason, 2_000),
                clean_text(
                    r.raw if isinstance(r.raw, str) else json.dumps(r.raw, default=str), RAW_LIMIT
                ),
            )
            for r in rejections
        ]

    def _append_quarantine(self, cur: Any, rows: list[tuple]) -> None:
        """Insert rows on ``cur``, inside its transaction (engines may override with a bulk path)."""
        if rows:
            cur.executemany(
                self._sql(
                    f"INSERT INTO quarantine ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * 9)})"
                ),
                rows,
            )

    def quarantine(
        self,
        rejections: list[Rejection],
        source: str,
        customer_of: dict[str, str] | None = None,
        customer_id: str | None = None,
    ) -> None:
        """Keep rejected records; ``customer_id`` (a customer's key) names whom they count
        against, else each counts against its asset's owner (``customer_of``)."""
        rows = self._quarantine_rows(rejections, source, customer_of, customer_id)
        if rows:
            with self._cursor() as cur:
                self._append_quarantine(cur, rows)

    def commit_ingest(
        self,
        batch: ReadingBatch,
        rejections: list[Rejection],
        source: str,
        customer_of: dict[str, str] | None = None,
        customer_id: str | None = None,
    ) -> int:
        """Store a batch's readings and quarantine its rejections in one transaction; returns
        how many readings were new."""
        rows = self._quarantine_rows(rejections, source, customer_of, customer_id)
        df = readings_frame(batch)
        with self._cursor() as cur:
            n = 0
            if len(df):
                n = self._insert_readings(cur, df)
                self._mark_activity(cur, df["asset_id"].to_numpy(object), df["ts"].to_numpy())
            self._append_quarantine(cur, rows)
        return n

    def list_quarantine(self, customer_id=None, limit=100, offset=0) -> list[dict[str, Any]]:
        sql = "SELECT id, received_at, source, record_index, asset_id, customer_id, field, reason, raw FROM quarantine"
        params: list[Any] = []
        if customer_id is not None:
            sql += " WHERE customer_id = ?"
            params.append(customer_id)
        sql += f" ORDER BY received_at DESC, id LIMIT {int(limit)} OFFSET {int(offset)}"
        cols = ["index" if c == "record_index" else c for c in COLUMNS]
        out = []
        for r in self._rows(sql, params):
            d = dict(zip(cols, r, strict=True))
            d["received_at"] = from_db_time(d["received_at"]).isoformat()
            out.append(d)
        return out

    def purge_quarantine(self, source=None, before=None, asset_id=None, customer_id=None) -> int:
        """Delete the rows the filters match in one transaction, counted by what the delete
        returned (not by a count before it, which rows arriving meanwhile would make wrong): a
        failure midway leaves the quarantine as it was."""
        where, params = [], []
        if customer_id is not None:
            where.append("customer_id = ?")
            params.append(customer_id)
        if source is not None:
            where.append("source = ?")
            params.append(source)
        if before is not None:
            where.append("received_at < ?")
            params.append(to_naive_utc(before))
        if asset_id is not None:
            where.append("asset_id = ?")
            params.append(asset_id)
        cond = " WHERE " + " AND ".join(where) if where else ""
        with self._cursor() as cur:  # one statement, one transaction: all of it or nothing
            cur.execute(self._sql(f"DELETE FROM quarantine{cond} RETURNING id"), params)
            n = len(cur.fetchall())
        return n

    def count_quarantine(self, customer_id: str | None = None) -> int:
        if customer_id is None:
            return int(self._rows("SELECT count(*) FROM quarantine")[0][0])
        return int(
            self._rows("SELECT count(*) FROM quarantine WHERE customer_id = ?", (customer_id,))[0][
                0
            ]
        )

    def trim_quarantine(self, customer_id: str | None, keep: int, before: datetime | None) -> int:
        """Drop one customer's rows received before ``before`` and all but its newest ``keep``
        (``customer_id`` None: the rows that count against no customer); returns how many."""
        who, params = (
            ("customer_id IS NULL", [])
            if customer_id is None
            else ("customer_id = ?", [customer_id])
        )
        with self._cursor() as cur:
            cur.execute(self._sql(f"SELECT count(*) FROM quarantine WHERE {who}"), params)
            before_n = int(cur.fetchall()[0][0])
            if before is not None:
                cur.execute(
                    self._sql(f"DELETE FROM quarantine WHERE {who} AND received_at < ?"),
                    [*params, to_naive_utc(before)],
                )
            cur.execute(
                self._sql(
                    f"DELETE FROM quarantine WHERE id IN (SELECT id FROM quarantine WHERE {who} "
                    f"ORDER BY received_at DESC, id OFFSET {max(int(keep), 0)})"
                ),
                params,
            )
            cur.execute(self._sql(f"SELECT count(*) FROM quarantine WHERE {who}"), params)
            return before_n - int(cur.fetchall()[0][0])
