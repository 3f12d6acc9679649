"""``prognos bench forecast``: fleet scoring over N engines, phase split, optionally on Dask
(the measuring is in ``prognos.bench.forecast``)."""

from __future__ import annotations

import typer

from prognos.cli.bench._common import check_store, emit


def register(bench_app: typer.Typer) -> None:
    """Add `prognos bench forecast`."""

    @bench_app.command("forecast")
    def forecast(
        assets: int = typer.Option(10_000, "--assets", min=1, help="In-service engines to score."),
        health: bool = typer.Option(
            True, "--health/--no-health", help="Train the health model and score health too."
        ),
        dask_workers: int = typer.Option(
            0,
            "--dask-workers",
            min=0,
            help="Also score on a LocalCluster of K processes (0: skip).",
        ),
        dask: str | None = typer.Option(
            None,
            "--dask",
            help="Also score on this running Dask scheduler (tcp://HOST:PORT); its workers "
            "need prognos installed and, for a remote cluster, --store postgresql://...",
        ),
        store: str = typer.Option(
            "duckdb", "--store", help="duckdb, postgres-temp or a postgresql:// URL."
        ),
        chunk: int = typer.Option(500, "--chunk", min=1, help="Assets per scoring chunk."),
        seed: int = typer.Option(0, "--seed", help="Seed of the random history cuts."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Fleet scoring: forecast_fleet over N engines, phase split, optionally on Dask."""
        from prognos.bench.forecast import run
        from prognos.cli._output import step_bars as progress_bars

        check_store(store)
        kwargs = {
            "health": health,
            "dask_workers": dask_workers,
            "dask_address": dask,
            "chunk": chunk,
            "seed": seed,
            "store": store,
        }
        if as_json:
            result = run(assets, **kwargs)
        else:
            with progress_bars() as bar:
                result = run(assets, progress=bar, **kwargs)
        emit(result, as_json=as_json, title=f"prognos bench forecast ({assets} assets)")
