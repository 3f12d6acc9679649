"""The stores benchmarks run against: a DuckDB file in a temporary folder, a throwaway
PostgreSQL server, or one the caller names."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer


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
        raise typer.BadParameter(
            f"unknown store {store!r}: use duckdb, postgres-temp or a postgresql:// URL"
        )
