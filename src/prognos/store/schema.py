"""Versioned schema migrations, written once for both databases.

Each migration is a list of statements in the common subset of DuckDB and PostgreSQL SQL; a
statement prefixed ``duckdb:`` or ``postgresql:`` runs on that engine only.
``{json}`` stands for the JSON column type, ``{blob}`` for a binary one. Referential integrity is checked by the service
layer: DuckDB's upserts refuse to rewrite rows that foreign keys or secondary indexes point at. Never edit an applied migration: add a new one.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "registry, telemetry, quarantine, keys",
        [
            """CREATE TABLE customers (
                id VARCHAR PRIMARY KEY,
                name VARCHAR NOT NULL
            )""",
            """CREATE TABLE sites (
                id VARCHAR PRIMARY KEY,
                customer_id VARCHAR NOT NULL,
                name VARCHAR NOT NULL,
                timezone VARCHAR NOT NULL,
                region VARCHAR NOT NULL,
                latitude DOUBLE PRECISION,
                longitude DOUBLE PRECISION
            )""",
            """CREATE TABLE asset_types (
                id VARCHAR PRIMARY KEY,
                body {json} NOT NULL
            )""",
            """CREATE TABLE assets (
                id VARCHAR PRIMARY KEY,
                customer_id VARCHAR NOT NULL,
                site_id VARCHAR NOT NULL,
                type_id VARCHAR NOT NULL,
                serial VARCHAR NOT NULL,
                model VARCHAR NOT NULL,
                installed_at TIMESTAMP NOT NULL,
                parent_id VARCHAR
            )""",
            # One row per reading. The key makes re-sent readings idempotent and doubles as the
            # (asset, channel, time) access path for range scans.
            """CREATE TABLE telemetry (
                asset_id VARCHAR NOT NULL,
                channel VARCHAR NOT NULL,
                ts TIMESTAMP NOT NULL,
                value DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (asset_id, channel, ts)
            )""",
            """CREATE TABLE quarantine (
                id VARCHAR PRIMARY KEY,
                received_at TIMESTAMP NOT NULL,
                source VARCHAR NOT NULL,
                record_index INTEGER,
                asset_id VARCHAR,
                customer_id VARCHAR,
                field VARCHAR NOT NULL,
                reason VARCHAR NOT NULL,
                raw VARCHAR
            )""",
            """CREATE TABLE api_keys (
                id VARCHAR PRIMARY KEY,
                key_hash VARCHAR NOT NULL UNIQUE,
                customer_id VARCHAR,
                name VARCHAR NOT NULL,
                created_at TIMESTAMP NOT NULL
            )""",
        ],
    ),
    (
        2,
        "forecasts, health, models, documents",
        [
            """CREATE TABLE forecasts (
                asset_id VARCHAR NOT NULL,
                component VARCHAR NOT NULL,
                as_of TIMESTAMP NOT NULL,
                created_at TIMESTAMP NOT NULL,
                model VARCHAR NOT NULL,
                p50 DOUBLE PRECISION NOT NULL,
                body {json} NOT NULL,
                PRIMARY KEY (asset_id, component, as_of, model)
            )""",
            """CREATE TABLE health (
                asset_id VARCHAR NOT NULL,
                as_of TIMESTAMP NOT NULL,
                score DOUBLE PRECISION NOT NULL,
                body {json} NOT NULL,
                PRIMARY KEY (asset_id, as_of)
            )""",
            """CREATE TABLE models (
                id VARCHAR PRIMARY KEY,
                asset_type VARCHAR NOT NULL,
                version INTEGER NOT NULL,
                created_at TIMESTAMP NOT NULL,
                body {json} NOT NULL
            )""",
            # Planning objects (calendars, crews, parts, work orders, alarms) as typed JSON
            # documents: their shapes evolve faster than a relational schema should.
            """CREATE TABLE documents (
                kind VARCHAR NOT NULL,
                id VARCHAR NOT NULL,
                customer_id VARCHAR,
                asset_id VARCHAR,
                status VARCHAR,
                updated_at TIMESTAMP NOT NULL,
                body {json} NOT NULL,
                PRIMARY KEY (kind, id)
            )""",
        ],
    ),
    (
        3,
        "embedded telemetry without a key index",
        [
            # DuckDB pays about 12 us per reading to maintain the (asset, channel, time) key and
            # does not use it for range scans (zone maps do that). Idempotency there comes from
            # an anti-join of each batch against the stored readings in the batch's time range
            # (see DuckDBStore.write_readings), which costs half as much. The rebuilt table is
            # ordered by asset, channel and time, the layout range scans want. PostgreSQL keeps
            # its key: several writers may insert at once there.
            "duckdb:CREATE TABLE telemetry_v3 AS SELECT * FROM telemetry ORDER BY asset_id, channel, ts",
            "duckdb:DROP TABLE telemetry",
            "duckdb:ALTER TABLE telemetry_v3 RENAME TO telemetry",
        ],
    ),
    (
        4,
        "revocable API keys",
        [
            # A revoked key stays listed (who had it, since when, until when) but no longer
            # authenticates. Keys read pk_<id>_<secret>, so the id already shows a key by its
            # start without revealing it: no prefix column is needed.
            "ALTER TABLE api_keys ADD COLUMN revoked_at TIMESTAMP",
        ],
    ),
    (
        5,
        "model artefacts in the database",
        [
            # A fitted model's pickle lives beside its card, so any process on any host loads
            # the same model (a path on the training host's disk did not travel).
            "ALTER TABLE models ADD COLUMN artifact {blob}",
        ],
    ),
]
