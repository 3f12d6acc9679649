"""``SqlStore``: every port's SQL in one object, for DuckDB and PostgreSQL alike.

Each port (``ports.py``) has its SQL in a module of its own (``sql_<port>.py``); an engine
(``duckdb_store``, ``postgres_store``) subclasses this with its connections and dialect hooks.
"""

from __future__ import annotations

from prognos.store.sql_alarms import AlarmsSql
from prognos.store.sql_cluster import StampsSql, WorkersSql
from prognos.store.sql_documents import DocumentsSql
from prognos.store.sql_fleet import FleetSql
from prognos.store.sql_forecasts import ForecastsSql
from prognos.store.sql_keys import KeysSql
from prognos.store.sql_locks import LocalLocks
from prognos.store.sql_outbox import OutboxSql
from prognos.store.sql_quarantine import QuarantineSql
from prognos.store.sql_readings import ReadingsSql
from prognos.store.sql_registry import RegistrySql


class SqlStore(
    RegistrySql,
    ReadingsSql,
    QuarantineSql,
    KeysSql,
    ForecastsSql,
    DocumentsSql,
    FleetSql,
    AlarmsSql,
    OutboxSql,
    LocalLocks,
    WorkersSql,
    StampsSql,
):
    """The shared implementation of ``Store``; engines supply ``_cursor`` and dialect hooks."""

    kind = "sql"
