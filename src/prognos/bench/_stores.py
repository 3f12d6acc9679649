"""The stores benchmarks run against: a DuckDB file in a temporary folder, a throwaway
PostgreSQL server, or one the caller names."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def throwaway_store(store: str) -> Iterator[tuple[str, str]]:
    """(PROGNOS_DB value, label) for a fresh store of the kind asked for."""
    from prognos import devservers

    if store == "duckdb":
        with tempfile.TemporaryDirectory(prefix="prognos-bench-") as d:
            yield str(Path(d) / "bench.duckdb"), "duckdb"
    elif store in ("postgres-temp", "postgresql-temp"):
        with devservers.postgres() as pg:
            yield pg.create_database("bench"), "postgresql (throwaway server)"
    elif store.startswith(("postgresql://", "postgres://")):
        yield store, "postgresql"
    else:
        raise ValueError(store_problem(store))


def store_problem(store: str) -> str | None:
    """Why ``store`` names no store a benchmark can open, or None when it does."""
    if store in ("duckdb", "postgres-temp", "postgresql-temp"):
        return None
    if store.startswith(("postgresql://", "postgres://")):
        return None
    return f"unknown store {store!r}: use duckdb, postgres-temp or a postgresql:// URL"
