"""Benchmark: web."""

from __future__ import annotations

import typer


def register(bench_app: typer.Typer) -> None:
    """Add `prognos bench web`."""
