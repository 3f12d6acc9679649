"""The SQL of one store port, typed JSON documents (calendars, crews, parts, work orders,
alarms); mixed into ``SqlStore``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from prognos.store.sql import (
    SqlBase,
    _json_load,
    to_naive_utc,
)


class DocumentsSql(SqlBase):
    def put_document(
        self, kind, doc_id, body, customer_id=None, asset_id=None, status=None
    ) -> None:
        self._exec(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET "
            "customer_id = EXCLUDED.customer_id, asset_id = EXCLUDED.asset_id, status = EXCLUDED.status, "
            "updated_at = EXCLUDED.updated_at, body = EXCLUDED.body",
            (
                kind,
                doc_id,
                customer_id,
                asset_id,
                status,
                to_naive_utc(datetime.now(UTC)),
                json.dumps(body, default=str),
            ),
        )

    _COLUMNS = ["kind", "id", "customer_id", "asset_id", "status", "updated_at", "body"]

    def put_documents(
        self, kind: str, docs: list[tuple[str, dict, str | None, str | None, str | None]]
    ) -> None:
        """Insert or replace many documents of one kind in one transaction: (id, body,
        customer_id, asset_id, status) each."""
        now = to_naive_utc(datetime.now(UTC))
        rows = [
            (kind, i, c, a, st, now, json.dumps(body, default=str)) for i, body, c, a, st in docs
        ]
        self._upsert_rows("documents", self._COLUMNS, ["kind", "id"], rows)

    def get_document(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT body FROM documents WHERE kind = ? AND id = ?", (kind, doc_id))
        return _json_load(rows[0][0]) if rows else None

    def list_documents(
        self, kind, customer_id=None, asset_id=None, status=None
    ) -> list[dict[str, Any]]:
        sql, params = "SELECT body FROM documents WHERE kind = ?", [kind]
        for col, val in (("customer_id", customer_id), ("asset_id", asset_id), ("status", status)):
            if val is not None:
                sql += f" AND {col} = ?"
                params.append(val)
        return [_json_load(r[0]) for r in self._rows(sql + " ORDER BY id", params)]

    def delete_document(self, kind: str, doc_id: str) -> bool:
        with self._cursor() as cur:
            cur.execute(
                self._sql("SELECT count(*) FROM documents WHERE kind = ? AND id = ?"),
                (kind, doc_id),
            )
            found = cur.fetchall()[0][0] > 0
            cur.execute(
                self._sql("DELETE FROM documents WHERE kind = ? AND id = ?"), (kind, doc_id)
            )
        return bool(found)

    def count_documents(self, kind: str, customer_id: str | None = None) -> dict[str, int]:
        """How many documents of a kind there are, by status (one customer's, or all)."""
        sql, params = "SELECT status, count(*) FROM documents WHERE kind = ?", [kind]
        if customer_id is not None:
            sql += " AND customer_id = ?"
            params.append(customer_id)
        return {s or "": int(n) for s, n in self._rows(sql + " GROUP BY status", params)}

    def documents_stamp(self, kinds: list[str]) -> dict[str, str]:
        """Per kind, a token that changes whenever a document of that kind is written or
        deleted (count and newest write): what a planner watches for changed inputs."""
        if not kinds:
            return {}
        rows = self._rows(
            "SELECT kind, status, count(*), max(updated_at) FROM documents WHERE kind IN "
            f"({', '.join('?' * len(kinds))}) GROUP BY kind, status",
            list(kinds),
        )
        out = {k: "" for k in kinds}
        for kind, status, n, at in sorted(rows, key=lambda r: (r[0], r[1] or "")):
            out[kind] += f"{status or ''}:{n}:{at}|"
        return out
