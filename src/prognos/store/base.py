"""The ``Store``: every port (``ports.py``) in one object, and ``open_store`` to get one.

Two implementations share one SQL body (``sql_store.SqlStore``): ``DuckDBStore`` for the embedded
default and ``PostgresStore`` for fleets that outgrow one machine. ``open_store`` picks one from
the ``PROGNOS_DB`` string.
"""

from __future__ import annotations

from typing import Protocol

from prognos.store.ports import (
    ActivityPort,
    AlarmsPort,
    DocumentsPort,
    FleetPort,
    ForecastsPort,
    KeysPort,
    LocksPort,
    OutboxPort,
    QuarantinePort,
    ReadingsPort,
    RegistryPort,
    StampsPort,
    WorkersPort,
)


class Store(
    RegistryPort,
    ReadingsPort,
    QuarantinePort,
    KeysPort,
    ForecastsPort,
    DocumentsPort,
    FleetPort,
    AlarmsPort,
    OutboxPort,
    LocksPort,
    WorkersPort,
    StampsPort,
    ActivityPort,
    Protocol,
):
    """Every port in one object, as ``open_store`` returns it; only the composition root
    (``service.platform``) holds it whole and hands each use case the ports it needs."""

    kind: str

    def migrate(self) -> int: ...
    def ping(self) -> None: ...
    def close(self) -> None: ...


def open_store(db: str, *, read_only: bool = False) -> Store:
    """Open (and migrate) the store that ``db`` names: a postgresql:// URL or a DuckDB file.

    ``read_only`` (Dask workers reading for fleet scoring) migrates nothing and opens a DuckDB
    file read-only, which fails while any process holds it for writing.
    """
    if db.startswith(("postgresql://", "postgres://")):
        from prognos.store.postgres_store import PostgresStore

        store: Store = PostgresStore(db)
    else:
        from prognos.store.duckdb_store import DuckDBStore

        store = DuckDBStore(db, read_only=read_only)
    if not read_only:
        store.migrate()
    return store
