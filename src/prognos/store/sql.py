"""The SQL both stores share; each subclass supplies connections and a few dialect hooks."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from prognos.domain import (
    Asset,
    AssetType,
    Customer,
    FailureForecast,
    HealthScore,
    Principal,
    ReadingBatch,
    Rejection,
    Site,
)
from prognos.domain.keys import ApiKey
from prognos.store.schema import MIGRATIONS


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
_ASSET_COLS = "id, customer_id, site_id, type_id, serial, model, installed_at, parent_id"


class SqlStore:
    """Shared implementation; subclasses define ``_cursor``, ``json_type`` and dialect hooks."""

    kind = "sql"
    json_type = "JSON"

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
    def migrate(self) -> int:
        """Apply pending migrations; returns the schema version now in force."""
        with self._cursor() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
            )
            cur.execute("SELECT version FROM schema_migrations")
            done = {r[0] for r in cur.fetchall()}
        for version, name, statements in MIGRATIONS:
            if version in done:
                continue
            with self._cursor() as cur:
                for st in statements:
                    engine, _, body = (
                        st.partition(":") if st.split(":", 1)[0] in _ENGINES else ("", "", st)
                    )
                    if engine in ("", self.kind):
                        cur.execute(body.replace("{json}", self.json_type))
                cur.execute(
                    self._sql("INSERT INTO schema_migrations VALUES (?, ?, ?)"),
                    (version, name, to_naive_utc(datetime.now(UTC))),
                )
        return max(v for v, _, _ in MIGRATIONS)

    def schema_version(self) -> int:
        rows = self._rows("SELECT max(version) FROM schema_migrations")
        return int(rows[0][0] or 0)

    # -- registry ------------------------------------------------------------------------------
    def upsert_customer(self, c: Customer) -> None:
        self._exec(
            "INSERT INTO customers VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name",
            (c.id, c.name),
        )

    def get_customer(self, customer_id: str) -> Customer | None:
        rows = self._rows("SELECT id, name FROM customers WHERE id = ?", (customer_id,))
        return Customer(id=rows[0][0], name=rows[0][1]) if rows else None

    def list_customers(self) -> list[Customer]:
        return [
            Customer(id=r[0], name=r[1])
            for r in self._rows("SELECT id, name FROM customers ORDER BY id")
        ]

    def upsert_site(self, s: Site) -> None:
        self._exec(
            "INSERT INTO sites VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "customer_id = EXCLUDED.customer_id, name = EXCLUDED.name, timezone = EXCLUDED.timezone, "
            "region = EXCLUDED.region, latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude",
            (s.id, s.customer_id, s.name, s.timezone, s.region, s.latitude, s.longitude),
        )

    def _site(self, r: tuple) -> Site:
        return Site(
            id=r[0],
            customer_id=r[1],
            name=r[2],
            timezone=r[3],
            region=r[4],
            latitude=r[5],
            longitude=r[6],
        )

    def get_site(self, site_id: str) -> Site | None:
        rows = self._rows("SELECT * FROM sites WHERE id = ?", (site_id,))
        return self._site(rows[0]) if rows else None

    def list_sites(self, customer_id: str | None = None) -> list[Site]:
        if customer_id is None:
            rows = self._rows("SELECT * FROM sites ORDER BY id")
        else:
            rows = self._rows(
                "SELECT * FROM sites WHERE customer_id = ? ORDER BY id", (customer_id,)
            )
        return [self._site(r) for r in rows]

    def upsert_asset_type(self, t: AssetType) -> None:
        self._exec(
            "INSERT INTO asset_types VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body",
            (t.id, t.model_dump_json()),
        )

    def get_asset_type(self, type_id: str) -> AssetType | None:
        rows = self._rows("SELECT body FROM asset_types WHERE id = ?", (type_id,))
        return AssetType.model_validate(_json_load(rows[0][0])) if rows else None

    def list_asset_types(self) -> list[AssetType]:
        rows = self._rows("SELECT body FROM asset_types ORDER BY id")
        return [AssetType.model_validate(_json_load(r[0])) for r in rows]

    def upsert_assets(self, assets: list[Asset]) -> None:
        self._many(
            f"INSERT INTO assets ({_ASSET_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, "
            "site_id = EXCLUDED.site_id, type_id = EXCLUDED.type_id, serial = EXCLUDED.serial, "
            "model = EXCLUDED.model, installed_at = EXCLUDED.installed_at, parent_id = EXCLUDED.parent_id",
            [
                (
                    a.id,
                    a.customer_id,
                    a.site_id,
                    a.type_id,
                    a.serial,
                    a.model,
                    to_naive_utc(a.installed_at),
                    a.parent_id,
                )
                for a in assets
            ],
        )

    @staticmethod
    def _asset(r: tuple) -> Asset:
        return Asset(
            id=r[0],
            customer_id=r[1],
            site_id=r[2],
            type_id=r[3],
            serial=r[4],
            model=r[5],
            installed_at=from_db_time(r[6]),
            parent_id=r[7],
        )

    def get_asset(self, asset_id: str) -> Asset | None:
        rows = self._rows(f"SELECT {_ASSET_COLS} FROM assets WHERE id = ?", (asset_id,))
        return self._asset(rows[0]) if rows else None

    @staticmethod
    def _asset_filter(customer_id, type_id, site_id, search) -> tuple[str, list]:
        where, params = [], []
        for col, val in (("customer_id", customer_id), ("type_id", type_id), ("site_id", site_id)):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        if search:
            where.append("(lower(id) LIKE ? OR lower(serial) LIKE ? OR lower(model) LIKE ?)")
            params += [f"%{search.lower()}%"] * 3
        return (" WHERE " + " AND ".join(where)) if where else "", params

    def list_assets(
        self, customer_id=None, type_id=None, site_id=None, search=None, limit=None, offset=0
    ):
        where, params = self._asset_filter(customer_id, type_id, site_id, search)
        sql = f"SELECT {_ASSET_COLS} FROM assets{where} ORDER BY id"
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        return [self._asset(r) for r in self._rows(sql, params)]

    def count_assets(self, customer_id=None, type_id=None, site_id=None, search=None) -> int:
        where, params = self._asset_filter(customer_id, type_id, site_id, search)
        return int(self._rows(f"SELECT count(*) FROM assets{where}", params)[0][0])

    # -- telemetry -----------------------------------------------------------------------------
    def write_readings(self, batch: ReadingBatch) -> int:
        """Store a validated batch in one transaction; returns how many were new (not duplicates)."""
        if not len(batch):
            return 0
        df = pd.DataFrame(
            {
                "asset_id": batch.asset_id,
                "channel": batch.channel,
                "ts": batch.ts.astype("datetime64[us]"),
                "value": batch.value.astype(np.float64),
            }
        )
        # Duplicates inside one batch would violate the key before ON CONFLICT sees them.
        df = df.drop_duplicates(subset=["asset_id", "channel", "ts"], keep="last")
        with self._cursor() as cur:
            return self._insert_readings(cur, df)

    def read_telemetry(self, asset_id, channels=None, start=None, end=None) -> pd.DataFrame:
        sql = "SELECT ts, channel, value FROM telemetry WHERE asset_id = ?"
        params: list[Any] = [asset_id]
        if channels:
            sql += " AND channel IN (" + ", ".join("?" for _ in channels) + ")"
            params += list(channels)
        if start is not None:
            sql += " AND ts >= ?"
            params.append(to_naive_utc(start))
        if end is not None:
            sql += " AND ts <= ?"
            params.append(to_naive_utc(end))
        sql += " ORDER BY ts, channel"
        df = self._frame(sql, params, ["ts", "channel", "value"])
        df["ts"] = pd.to_datetime(df["ts"], utc=True)
        df["value"] = df["value"].astype(float)
        return df

    def read_telemetry_many(self, asset_ids: list[str]) -> pd.DataFrame:
        """Every reading of several assets in one query (fleet scoring reads chunks of assets:
        one query each instead of one per asset), ordered by asset, time and channel."""
        cols = ["asset_id", "ts", "channel", "value"]
        if not asset_ids:
            return pd.DataFrame(columns=cols)
        marks = ", ".join("?" * len(asset_ids))
        df = self._frame(
            f"SELECT asset_id, ts, channel, value FROM telemetry WHERE asset_id IN ({marks}) "
            "ORDER BY asset_id, ts, channel",
            list(asset_ids),
            cols,
        )
        df["ts"] = pd.to_datetime(df["ts"], utc=True)
        df["value"] = df["value"].astype(float)
        return df

    def downsample(self, asset_id, channels, start, end, max_points) -> pd.DataFrame:
        """Min/max/mean per time bucket and channel, at most ``max_points`` buckets per channel."""
        lo, hi, n = self.telemetry_span(asset_id)
        if n == 0:
            return pd.DataFrame(columns=["ts", "channel", "min", "max", "mean", "count"])
        start = start or lo
        end = end or hi
        s0 = to_naive_utc(start).replace(tzinfo=UTC).timestamp()
        s1 = to_naive_utc(end).replace(tzinfo=UTC).timestamp()
        width = max((s1 - s0) / max(int(max_points), 1), 1e-6)
        ep = self._epoch("ts")
        sql = (
            f"SELECT least(floor(({ep} - ?) / ?), ?) AS b, channel, min(value), max(value), avg(value), count(*) "
            "FROM telemetry WHERE asset_id = ? AND ts >= ? AND ts <= ?"
        )
        params: list[Any] = [
            s0,
            width,
            max(int(max_points), 1) - 1,
            asset_id,
            to_naive_utc(start),
            to_naive_utc(end),
        ]
        if channels:
            sql += " AND channel IN (" + ", ".join("?" for _ in channels) + ")"
            params += list(channels)
        sql += " GROUP BY b, channel ORDER BY channel, b"
        rows = self._rows(sql, params)
        df = pd.DataFrame(rows, columns=["bucket", "channel", "min", "max", "mean", "count"])
        df["bucket"] = df["bucket"].astype(float)
        df["ts"] = pd.to_datetime(s0 + (df["bucket"] + 0.5) * width, unit="s", utc=True)
        return df.drop(columns=["bucket"])[["ts", "channel", "min", "max", "mean", "count"]]

    def telemetry_span(self, asset_id: str):
        r = self._rows(
            "SELECT min(ts), max(ts), count(*) FROM telemetry WHERE asset_id = ?", (asset_id,)
        )[0]
        return from_db_time(r[0]), from_db_time(r[1]), int(r[2])

    def last_reading_times(self, asset_ids: list[str]) -> dict[tuple[str, str], datetime]:
        """The newest stored reading's time per (asset, channel): where a connector resumes."""
        if not asset_ids:
            return {}
        marks = ", ".join("?" * len(asset_ids))
        rows = self._rows(
            f"SELECT asset_id, channel, max(ts) FROM telemetry WHERE asset_id IN ({marks}) "
            "GROUP BY asset_id, channel",
            list(asset_ids),
        )
        return {(r[0], r[1]): from_db_time(r[2]) for r in rows}

    def count_readings(self) -> int:
        return int(self._rows("SELECT count(*) FROM telemetry")[0][0])

    def channels_of(self, asset_id: str) -> list[str]:
        rows = self._rows(
            "SELECT DISTINCT channel FROM telemetry WHERE asset_id = ? ORDER BY channel",
            (asset_id,),
        )
        return [r[0] for r in rows]

    # -- quarantine ----------------------------------------------------------------------------
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

    # -- keys ----------------------------------------------------------------------------------
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

    # -- forecasts, health, models ------------------------------------------------------------
    _FORECAST_COLUMNS = ["asset_id", "component", "as_of", "created_at", "model", "p50", "body"]

    def save_forecast(self, f: FailureForecast) -> None:
        self.save_forecasts([f])

    def save_forecasts(self, forecasts: list[FailureForecast]) -> None:
        """Store many forecasts in one transaction (a fleet's scoring, a refresh round); a
        forecast for the same asset, component, moment and model replaces the stored one."""
        now = to_naive_utc(datetime.now(UTC))
        rows = [
            (
                f.asset_id,
                f.component or "",
                to_naive_utc(f.as_of),
                now,
                f.model,
                f.p50,
                json.dumps(f.as_dict(), default=str),
            )
            for f in forecasts
        ]
        self._upsert_rows(
            "forecasts", self._FORECAST_COLUMNS, ["asset_id", "component", "as_of", "model"], rows
        )

    def forecast_history(self, asset_id: str, limit: int = 100) -> list[FailureForecast]:
        rows = self._rows(
            f"SELECT body FROM forecasts WHERE asset_id = ? ORDER BY as_of DESC, created_at DESC LIMIT {int(limit)}",
            (asset_id,),
        )
        return [FailureForecast.from_dict(_json_load(r[0])) for r in rows]

    def latest_forecast(self, asset_id: str) -> FailureForecast | None:
        h = self.forecast_history(asset_id, limit=1)
        return h[0] if h else None

    def latest_forecasts(self, asset_ids=None) -> dict[str, FailureForecast]:
        sql = (
            "SELECT asset_id, body FROM (SELECT asset_id, body, row_number() OVER "
            "(PARTITION BY asset_id ORDER BY as_of DESC, created_at DESC) AS rn FROM forecasts) t WHERE rn = 1"
        )
        rows = self._rows(sql)
        wanted = set(asset_ids) if asset_ids is not None else None
        return {
            r[0]: FailureForecast.from_dict(_json_load(r[1]))
            for r in rows
            if wanted is None or r[0] in wanted
        }

    def save_health(self, h: HealthScore) -> None:
        self.save_healths([h])

    def save_healths(self, scores: list[HealthScore]) -> None:
        """Store many health scores in one transaction; a score for the same asset and moment
        replaces the stored one."""
        rows = [
            (h.asset_id, to_naive_utc(h.as_of), h.score, json.dumps(h.as_dict(), default=str))
            for h in scores
        ]
        self._upsert_rows(
            "health", ["asset_id", "as_of", "score", "body"], ["asset_id", "as_of"], rows
        )

    @staticmethod
    def _health(body: Any) -> HealthScore:
        d = _json_load(body)
        return HealthScore(
            asset_id=d["asset_id"],
            as_of=datetime.fromisoformat(d["as_of"]),
            score=float(d["score"]),
            drivers=d.get("drivers") or {},
            anomalies=d.get("anomalies") or {},
        )

    def latest_health(self, asset_id: str) -> HealthScore | None:
        rows = self._rows(
            "SELECT body FROM health WHERE asset_id = ? ORDER BY as_of DESC LIMIT 1", (asset_id,)
        )
        return self._health(rows[0][0]) if rows else None

    def health_history(self, asset_id: str, limit: int = 500) -> list[HealthScore]:
        """The asset's health scores, newest first."""
        rows = self._rows(
            f"SELECT body FROM health WHERE asset_id = ? ORDER BY as_of DESC LIMIT {int(limit)}",
            (asset_id,),
        )
        return [self._health(r[0]) for r in rows]

    def latest_healths(self, asset_ids=None) -> dict[str, HealthScore]:
        rows = self._rows(
            "SELECT asset_id, body FROM (SELECT asset_id, body, row_number() OVER "
            "(PARTITION BY asset_id ORDER BY as_of DESC) AS rn FROM health) t WHERE rn = 1"
        )
        wanted = set(asset_ids) if asset_ids is not None else None
        return {r[0]: self._health(r[1]) for r in rows if wanted is None or r[0] in wanted}

    def save_model(self, model_id: str, asset_type: str, body: dict[str, Any]) -> int:
        with self._cursor() as cur:
            cur.execute(
                self._sql("SELECT coalesce(max(version), 0) FROM models WHERE asset_type = ?"),
                (asset_type,),
            )
            version = int(cur.fetchall()[0][0]) + 1
            body = {**body, "id": model_id, "asset_type": asset_type, "version": version}
            cur.execute(
                self._sql("INSERT INTO models VALUES (?, ?, ?, ?, ?)"),
                (
                    model_id,
                    asset_type,
                    version,
                    to_naive_utc(datetime.now(UTC)),
                    json.dumps(body, default=str),
                ),
            )
        return version

    def latest_model(self, asset_type: str) -> dict[str, Any] | None:
        rows = self._rows(
            "SELECT body FROM models WHERE asset_type = ? ORDER BY version DESC LIMIT 1",
            (asset_type,),
        )
        return _json_load(rows[0][0]) if rows else None

    # -- documents -----------------------------------------------------------------------------
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


def on_conflict_update(columns: list[str], key: list[str]) -> str:
    """``ON CONFLICT (key) DO UPDATE SET`` every other column to the incoming value."""
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in key)
    return f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
