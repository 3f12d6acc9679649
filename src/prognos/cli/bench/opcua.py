"""``prognos bench opcua``: OPC UA ingest from one simulated machine with many monitored items
(the measuring is in ``prognos.bench.opcua``)."""

from __future__ import annotations

import typer

from prognos.cli.bench._common import emit


def register(bench_app: typer.Typer) -> None:
    """Add `prognos bench opcua`."""
    bench_app.command("opcua")(bench_opcua)


def bench_opcua(
    items: int = typer.Option(1000, help="monitored items (server variables)"),
    interval: float = typer.Option(0.1, help="seconds between changes of every variable"),
    duration: float = typer.Option(15.0, help="seconds measured, after a warm-up"),
    warmup: float = typer.Option(3.0, help="seconds before measuring"),
    publishing_interval: float = typer.Option(0.1, help="subscription publishing interval, s"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Subscribe to ITEMS variables of a simulated machine and count samples per second."""
    from prognos.bench.opcua import run

    result = run(items, interval, duration, warmup, publishing_interval)
    emit(result, as_json=as_json, title="OPC UA ingest")
