"""The SQL of one store port, the notification outbox: alarm news waiting to be delivered,
sent, or given up on (dead letters); mixed into ``SqlStore``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from prognos.store.sql import SqlBase, _json_load, from_db_time, to_naive_utc

_COLS = [
    "id", "created_at", "due_at", "state", "attempts", "owner", "channel", "target", "alarm_id",
    "event", "last_error", "body",
]  # fmt: skip


class OutboxSql(SqlBase):
    def enqueue_notifications(self, items: list[dict[str, Any]]) -> None:
        """Add deliveries (``_COLS`` keys; ``body`` a dict), pending and due at ``due_at``."""
        rows = [
            tuple(
                json.dumps(d[c], default=str)
                if c == "body"
                else to_naive_utc(d[c])
                if c in ("created_at", "due_at")
                else d.get(c)
                for c in _COLS
            )
            for d in items
        ]
        self._insert_rows("alarm_outbox", len(_COLS), rows)

    def due_notifications(self, now: datetime, limit: int = 100) -> list[dict[str, Any]]:
        """Pending deliveries due by ``now``, oldest first."""
        rows = self._rows(
            f"SELECT {', '.join(_COLS)} FROM alarm_outbox WHERE state = 'pending' AND due_at <= ? "
            f"ORDER BY due_at, id LIMIT {int(limit)}",
            (to_naive_utc(now),),
        )
        out = []
        for r in rows:
            d = dict(zip(_COLS, r, strict=True))
            d["created_at"], d["due_at"] = from_db_time(d["created_at"]), from_db_time(d["due_at"])
            d["body"] = _json_load(d["body"])
            out.append(d)
        return out

    def settle_notification(
        self, item_id: str, state: str, attempts: int, due_at: datetime, error: str | None
    ) -> None:
        """Record an attempt: ``sent``, ``dead`` (given up), or ``pending`` again at ``due_at``."""
        self._exec(
            "UPDATE alarm_outbox SET state = ?, attempts = ?, due_at = ?, last_error = ? "
            "WHERE id = ?",
            (state, attempts, to_naive_utc(due_at), error, item_id),
        )

    def outbox_counts(self) -> dict[str, int]:
        rows = self._rows("SELECT state, count(*) FROM alarm_outbox GROUP BY state")
        return {s: int(n) for s, n in rows}

    def dead_notifications(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest deliveries given up on, with their last error."""
        rows = self._rows(
            "SELECT id, created_at, owner, channel, target, alarm_id, event, attempts, last_error "
            f"FROM alarm_outbox WHERE state = 'dead' ORDER BY created_at DESC LIMIT {int(limit)}"
        )
        keys = ["id", "created_at", "owner", "channel", "target", "alarm_id", "event"]
        return [
            dict(zip([*keys, "attempts", "last_error"], r, strict=True))
            | {"created_at": from_db_time(r[1])}
            for r in rows
        ]


__all__ = ["OutboxSql"]
