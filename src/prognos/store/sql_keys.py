"""The SQL of one store port, API keys (hashes only); mixed into ``SqlStore``."""

from __future__ import annotations

from datetime import UTC, datetime

from prognos.domain import (
    Principal,
)
from prognos.domain.keys import ApiKey
from prognos.store.sql import (
    SqlBase,
    from_db_time,
    to_naive_utc,
)


class KeysSql(SqlBase):
    _KEY_COLS = "id, name, customer_id, created_at, revoked_at"

    def add_api_key(self, key_id, key_hash, customer_id, name) -> None:
        self._exec(
            "INSERT INTO api_keys (id, key_hash, customer_id, name, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (key_id, key_hash, customer_id, name, to_naive_utc(datetime.now(UTC))),
        )

    def find_api_key(self, key_hash: str) -> Principal | None:
        """The principal of a key that is known and not revoked."""
        rows = self._rows(
            "SELECT id, customer_id, name FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
            (key_hash,),
        )
        return (
            Principal(key_id=rows[0][0], customer_id=rows[0][1], name=rows[0][2]) if rows else None
        )

    def _api_key(self, row: tuple) -> ApiKey:
        return ApiKey(
            id=row[0],
            name=row[1],
            customer_id=row[2],
            created_at=from_db_time(row[3]),
            revoked_at=from_db_time(row[4]),
        )

    def get_api_key(self, key_id: str) -> ApiKey | None:
        rows = self._rows(f"SELECT {self._KEY_COLS} FROM api_keys WHERE id = ?", (key_id,))
        return self._api_key(rows[0]) if rows else None

    def list_api_keys(self, customer_id: str | None = None) -> list[ApiKey]:
        """Every key, oldest first; with ``customer_id``, only that customer's."""
        sql = f"SELECT {self._KEY_COLS} FROM api_keys"
        params: tuple = ()
        if customer_id is not None:
            sql, params = sql + " WHERE customer_id = ?", (customer_id,)
        return [self._api_key(r) for r in self._rows(sql + " ORDER BY created_at, id", params)]

    def revoke_api_key(self, key_id: str, at: datetime) -> None:
        """Mark a key revoked at ``at``; a key revoked before keeps its first time."""
        self._exec(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (to_naive_utc(at), key_id),
        )
