"""``prognos bench store``: appends and per-asset range scans before and after compaction
(the measuring is in ``prognos.bench.store``)."""

from __future__ import annotations

from typing import Annotated

import typer

from prognos.cli.bench._common import check_store, emit


def register(bench_app: typer.Typer) -> None:
    """Add `prognos bench store`."""

    @bench_app.command("store")
    def bench_store(
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        store: Annotated[
            str,
            typer.Option(help="duckdb (a temporary file), postgres-temp or a postgresql:// URL."),
        ] = "duckdb",
        assets: Annotated[int, typer.Option(help="Assets in the fleet.")] = 1000,
        channels: Annotated[int, typer.Option(help="Channels per asset.")] = 10,
        ticks: Annotated[int, typer.Option(help="Readings per asset and channel.")] = 1000,
        batch_ticks: Annotated[int, typer.Option(help="Ticks of the whole fleet a batch.")] = 4,
        queries: Annotated[int, typer.Option(help="Random assets each scan is timed on.")] = 30,
    ) -> None:
        """Append rate, and per-asset range scans before and after compaction."""
        from prognos.bench.store import run

        check_store(store)
        result = run(store, assets, channels, ticks, batch_ticks, queries)
        emit(result, as_json=as_json, title="telemetry layout: appends and per-asset scans")
