"""Versioned schema migrations, written once for both databases.

Each migration is a list of statements in the common subset of DuckDB and PostgreSQL SQL; a
statement prefixed ``duckdb:`` or ``postgresql:`` runs on that engine only.
``{json}`` stands for the JSON column type, ``{blob}`` for a binary one. Referential integrity is checked by the service
layer: DuckDB's upserts refuse to rewrite rows that foreign keys or secondary indexes point at. Never edit an applied migration: add a new one.
"""

from __future__ import annotations

_MIGRATE_ALARM_DOCUMENTS = """INSERT INTO alarms
SELECT id,
       CASE WHEN rn > 1 THEN 'cleared' WHEN status = 'open' THEN 'active' ELSE status END,
       severity, customer_id, site_id, asset_id, type_id, cause, cause, NULL, message,
       raised_at, raised_at, 1, raised_at, NULL, silenced_because, NULL, acked_at, acked_by,
       NULL, CASE WHEN rn > 1 THEN raised_at END,
       CASE WHEN rn > 1 THEN 'superseded (migrated)' END, raised_at, details, '[]'
FROM (
    SELECT d.id, coalesce(d.status, 'open') AS status,
           coalesce(d.body->>'severity', 'warning') AS severity,
           coalesce(d.customer_id, a.customer_id, '') AS customer_id,
           coalesce(a.site_id, '') AS site_id, coalesce(d.asset_id, '') AS asset_id,
           coalesce(a.type_id, '') AS type_id,
           CASE WHEN d.id LIKE 'al-' || d.asset_id || '-%' THEN 'zscore' ELSE 'reported' END
               AS cause,
           coalesce(d.body->>'message', '') AS message,
           CAST(substr(d.body->>'raised_at', 1, 19) AS TIMESTAMP) AS raised_at,
           d.body->>'silenced_because' AS silenced_because,
           CAST(substr(d.body->>'acked_at', 1, 19) AS TIMESTAMP) AS acked_at,
           d.body->>'acked_by' AS acked_by,
           {details} AS details,
           row_number() OVER (
               PARTITION BY d.asset_id,
                   CASE WHEN d.id LIKE 'al-' || d.asset_id || '-%' THEN 'zscore' ELSE 'reported' END
               ORDER BY d.body->>'raised_at' DESC) AS rn
    FROM documents d LEFT JOIN assets a ON a.id = d.asset_id
    WHERE d.kind = 'alarm'
) old"""


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
    (
        6,
        "worker heartbeats and change stamps",
        [
            # Every hosted worker, wherever it runs, beats here every few seconds: the status
            # page lists them, and an MQTT worker whose beat went stale has its broker session
            # taken over by a survivor (service/workers/takeover.py). Times are the database's.
            """CREATE TABLE workers (
                id VARCHAR PRIMARY KEY,
                kind VARCHAR NOT NULL,
                host VARCHAR NOT NULL,
                pid INTEGER NOT NULL,
                client_id VARCHAR,
                grp VARCHAR,
                started_at TIMESTAMP NOT NULL,
                heartbeat_at TIMESTAMP NOT NULL,
                state VARCHAR NOT NULL,
                body {json} NOT NULL
            )""",
            # A counter per shared thing (the registry): processes compare it every second or
            # two and rebuild their caches when it moved.
            """CREATE TABLE stamps (
                name VARCHAR PRIMARY KEY,
                version BIGINT NOT NULL,
                updated_at TIMESTAMP NOT NULL
            )""",
        ],
    ),
    (
        7,
        "telemetry activity and hourly rollups",
        [
            # One row per asset and hour that received readings: written with the readings, in
            # their transaction. ``fresh``: a forecast refresh is due (any process's refresher
            # finds it); ``rolled``: the hourly rollup includes it. A writer sets them only when
            # they are not already pending, so a stream rewrites no rows.
            """CREATE TABLE telemetry_activity (
                asset_id VARCHAR NOT NULL,
                hour TIMESTAMP NOT NULL,
                written_at TIMESTAMP NOT NULL,
                fresh BOOLEAN NOT NULL,
                rolled BOOLEAN NOT NULL,
                PRIMARY KEY (asset_id, hour)
            )""",
            "postgresql:CREATE INDEX telemetry_activity_fresh ON telemetry_activity (asset_id) "
            "WHERE fresh",
            "postgresql:CREATE INDEX telemetry_activity_unrolled ON telemetry_activity (hour) "
            "WHERE NOT rolled",
            # min/max/sum/count per asset, channel and hour: long-range charts read these, and
            # they outlive the raw readings (retention).
            """CREATE TABLE telemetry_hourly (
                asset_id VARCHAR NOT NULL,
                channel VARCHAR NOT NULL,
                hour TIMESTAMP NOT NULL,
                n BIGINT NOT NULL,
                vmin DOUBLE PRECISION NOT NULL,
                vmax DOUBLE PRECISION NOT NULL,
                vsum DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (asset_id, channel, hour)
            )""",
            # readings stored before this version get their rollups built (not re-forecast)
            "INSERT INTO telemetry_activity SELECT asset_id, date_trunc('hour', ts), "
            "timezone('UTC', now()), false, false FROM telemetry GROUP BY asset_id, "
            "date_trunc('hour', ts)",
        ],
    ),
    (
        8,
        "PostgreSQL telemetry partitioned by month",
        [
            # Native range partitions by month, keeping the key (it includes ts): retention
            # drops a month in one statement instead of deleting rows, and scans of a time range
            # read only its months. Months are created ahead by the retention worker; a reading
            # outside them lands in the default partition until its month is created.
            "postgresql:ALTER TABLE telemetry RENAME TO telemetry_unpartitioned",
            "postgresql:ALTER INDEX telemetry_pkey RENAME TO telemetry_unpartitioned_pkey",
            """postgresql:CREATE TABLE telemetry (
                asset_id VARCHAR NOT NULL,
                channel VARCHAR NOT NULL,
                ts TIMESTAMP NOT NULL,
                value DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (asset_id, channel, ts)
            ) PARTITION BY RANGE (ts)""",
            "postgresql:CREATE TABLE telemetry_default PARTITION OF telemetry DEFAULT",
            """postgresql:DO $$
            DECLARE lo timestamp; hi timestamp; m timestamp;
            BEGIN
                SELECT date_trunc('month', min(ts)), date_trunc('month', max(ts))
                    INTO lo, hi FROM telemetry_unpartitioned;
                lo := coalesce(lo, date_trunc('month', timezone('UTC', now())));
                hi := greatest(coalesce(hi, lo), date_trunc('month', timezone('UTC', now())))
                    + interval '2 months';
                m := lo;
                WHILE m <= hi LOOP
                    EXECUTE format('CREATE TABLE %I PARTITION OF telemetry FOR VALUES FROM (%L) TO (%L)',
                        'telemetry_p' || to_char(m, 'YYYYMM'), m, m + interval '1 month');
                    m := m + interval '1 month';
                END LOOP;
            END $$""",
            "postgresql:INSERT INTO telemetry SELECT * FROM telemetry_unpartitioned",
            "postgresql:DROP TABLE telemetry_unpartitioned",
            # a few kilobytes per month: time-range scans (rollups, retention) skip old blocks
            "postgresql:CREATE INDEX telemetry_ts_brin ON telemetry USING brin (ts)",
        ],
    ),
    (
        9,
        "alarms in a table of their own, the sight of each asset, notification outbox",
        [
            # One row per alarm with the columns the desk filters, sorts and pages on. DuckDB
            # scans 10,000s of rows of these columns in about a millisecond and its indexes
            # refuse upserts that touch indexed columns, so only PostgreSQL gets indexes; there
            # the partial unique index also keeps one open alarm per asset and cause when
            # several processes raise at once.
            """CREATE TABLE alarms (
                id VARCHAR PRIMARY KEY,
                state VARCHAR NOT NULL,
                severity VARCHAR NOT NULL,
                customer_id VARCHAR NOT NULL,
                site_id VARCHAR NOT NULL,
                asset_id VARCHAR NOT NULL,
                type_id VARCHAR NOT NULL,
                cause VARCHAR NOT NULL,
                rule VARCHAR NOT NULL,
                channel VARCHAR,
                message VARCHAR NOT NULL,
                first_seen TIMESTAMP NOT NULL,
                last_seen TIMESTAMP NOT NULL,
                occurrences INTEGER NOT NULL,
                touched_at TIMESTAMP NOT NULL,
                clear_after_s DOUBLE PRECISION,
                silenced_because VARCHAR,
                escalated_at TIMESTAMP,
                acked_at TIMESTAMP,
                acked_by VARCHAR,
                ack_note VARCHAR,
                cleared_at TIMESTAMP,
                cleared_by VARCHAR,
                updated_at TIMESTAMP NOT NULL,
                details {json} NOT NULL,
                history {json} NOT NULL
            )""",
            # The alarm documents of before, one open alarm per asset and cause kept (the
            # newest; the older ones cleared as superseded: they were one per asset and day).
            _MIGRATE_ALARM_DOCUMENTS.format(
                details="json_object('channels', d.body->'channels')"
            ).replace("INSERT", "duckdb:INSERT", 1),
            _MIGRATE_ALARM_DOCUMENTS.format(
                details="jsonb_build_object('channels', d.body->'channels')"
            ).replace("INSERT", "postgresql:INSERT", 1),
            "DELETE FROM documents WHERE kind = 'alarm'",
            "postgresql:CREATE INDEX alarms_state_first ON alarms (state, first_seen DESC)",
            "postgresql:CREATE INDEX alarms_customer_state ON alarms (customer_id, state, first_seen DESC)",
            "postgresql:CREATE INDEX alarms_asset ON alarms (asset_id, first_seen DESC)",
            "postgresql:CREATE UNIQUE INDEX alarms_one_open ON alarms (asset_id, cause) WHERE state <> 'cleared'",
            # When each asset last sent a reading (data time) and when it arrived (server time):
            # the no-data rule and the normal period read it instead of scanning the telemetry.
            """CREATE TABLE asset_seen (
                asset_id VARCHAR PRIMARY KEY,
                last_ts TIMESTAMP NOT NULL,
                received_at TIMESTAMP NOT NULL
            )""",
            # Notifications waiting for (or given up on) delivery: a worker sends them, so a slow
            # receiver never holds up ingest, and a restart loses none.
            """CREATE TABLE alarm_outbox (
                id VARCHAR PRIMARY KEY,
                created_at TIMESTAMP NOT NULL,
                due_at TIMESTAMP NOT NULL,
                state VARCHAR NOT NULL,
                attempts INTEGER NOT NULL,
                owner VARCHAR NOT NULL,
                channel VARCHAR NOT NULL,
                target VARCHAR NOT NULL,
                alarm_id VARCHAR NOT NULL,
                event VARCHAR NOT NULL,
                last_error VARCHAR,
                body {json} NOT NULL
            )""",
            "postgresql:CREATE INDEX alarm_outbox_due ON alarm_outbox (state, due_at)",
        ],
    ),
    (
        10,
        "asset lifecycle",
        [
            # in_service or retired (offline is derived from when an asset was last seen): a
            # retired asset keeps its history for training but leaves live KPIs, alarms, plans
            "ALTER TABLE assets ADD COLUMN lifecycle VARCHAR DEFAULT 'in_service'",
            "ALTER TABLE assets ADD COLUMN retired_at TIMESTAMP",
        ],
    ),
]
