"""The SQL of one store port, rejected records with their reasons; mixed into ``SqlStore``."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from prognos.domain import (
    Rejection,
)
from prognos.store.sql import (
    SqlBase,
    from_db_time,
    to_naive_utc,
)


class QuarantineSql(SqlBase):
    def quarantine(self, rejections: list[Rejection], source: str, customer_of=None) -> None:
        now = to_naive_utc(datetime.now(UTC))
        customer_of = customer_of or {}
        rows = []
        for r in rejections:
            raw = r.raw if isinstance(r.raw, str) else json.dumps(r.raw, default=str)
            rows.append(
                (
                    uuid.uuid4().hex,
                    now,
                    r.source or source,
                    r.index,
                    r.asset_id,
                    customer_of.get(r.asset_id or ""),
                    r.field,
                    r.reason,
                    raw[:100_000],
                )
            )
        self._insert_rows("quarantine", 9, rows)

    def list_quarantine(self, customer_id=None, limit=100, offset=0) -> list[dict[str, Any]]:
        sql = "SELECT id, received_at, source, record_index, asset_id, customer_id, field, reason, raw FROM quarantine"
        params: list[Any] = []
        if customer_id is not None:
            sql += " WHERE customer_id = ?"
            params.append(customer_id)
        sql += f" ORDER BY received_at DESC, id LIMIT {int(limit)} OFFSET {int(offset)}"
        cols = [
            "id",
            "received_at",
            "source",
            "index",
            "asset_id",
            "customer_id",
            "field",
            "reason",
            "raw",
        ]
        out = []
        for r in self._rows(sql, params):
            d = dict(zip(cols, r, strict=True))
            d["received_at"] = from_db_time(d["received_at"]).isoformat()
            out.append(d)
        return out

    def count_quarantine(self, customer_id: str | None = None) -> int:
        if customer_id is None:
            return int(self._rows("SELECT count(*) FROM quarantine")[0][0])
        return int(
            self._rows("SELECT count(*) FROM quarantine WHERE customer_id = ?", (customer_id,))[0][
                0
            ]
        )
