"""``prognos bench <topic>``: benchmarks as commands that print JSON, never timed tests.

Each topic's module in ``prognos.bench`` has ``register(bench_app)`` adding its command; heavy
imports stay inside the command functions so ``prognos --help`` stays fast.
"""

from __future__ import annotations

import importlib

import typer

BENCH_TOPICS = ("ingest", "store", "rul", "plan", "web", "opcua", "forecast", "loop")


def register(app: typer.Typer) -> None:
    bench_app = typer.Typer(
        help="Benchmarks that print JSON (--json); numbers go to docs/benchmarks.md."
    )
    for topic in BENCH_TOPICS:
        importlib.import_module(f"prognos.bench.{topic}").register(bench_app)
    app.add_typer(bench_app, name="bench")
