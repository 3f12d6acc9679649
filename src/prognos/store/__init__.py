"""Where everything is kept: one ``Store`` protocol, an embedded DuckDB file and PostgreSQL."""

from prognos.store.base import Store, open_store

__all__ = ["Store", "open_store"]
