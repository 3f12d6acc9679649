"""``prognos bench <topic>``: benchmarks as commands that print JSON, never timed tests.

The commands (options, help, output) live here, one module a topic; the measuring itself lives
in ``prognos.bench``, plain functions that take arguments and return the JSON dict. Each
module imports its benchmark inside the command function, so ``prognos --help`` stays fast.
"""

from __future__ import annotations

import typer

from prognos.cli.bench import forecast, ingest, loop, opcua, plan, rul, store, web


def register(app: typer.Typer) -> None:
    bench_app = typer.Typer(
        help="Benchmarks that print JSON (--json); numbers go to docs/benchmarks.md."
    )
    for topic in (ingest, store, rul, plan, web, opcua, forecast, loop):
        topic.register(bench_app)
    app.add_typer(bench_app, name="bench")
