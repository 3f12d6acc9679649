"""``prognos bench web``: server time of the panel's pages on a large fleet (the measuring is in
``prognos.bench.web``)."""

from __future__ import annotations

import typer

from prognos.cli.bench._common import emit


def register(bench_app: typer.Typer) -> None:
    """Add `prognos bench web`."""

    @bench_app.command("web")
    def web(
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        assets: int = typer.Option(10_000, help="Assets in the fleet."),
        hours: int = typer.Option(24 * 365, help="Hourly readings per channel for the asset."),
        requests: int = typer.Option(50, help="Timed visits of each page."),
        history: int = typer.Option(3, help="Stored forecasts per asset (daily refreshes)."),
    ) -> None:
        """Server time of the fleet, asset and alarm pages (HTML + the data they fetch), p50/p95 ms."""
        from prognos.bench.web import run

        emit(
            run(n_assets=assets, hours=hours, requests=requests, history=history),
            as_json=as_json,
            title="prognos bench web",
        )
