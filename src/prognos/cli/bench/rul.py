"""``prognos bench rul``: RUL on C-MAPSS against the PHM08 protocol (the measuring is in
``prognos.bench.rul``)."""

from __future__ import annotations

from pathlib import Path

import typer

from prognos.cli.bench._common import bars, emit


def register(bench_app: typer.Typer) -> None:
    """Add `prognos bench rul`."""

    @bench_app.command("rul")
    def rul(
        data: Path | None = typer.Option(
            None, "--data", help="Folder with train_/test_/RUL_ files (default: shipped data)."
        ),
        subset: str = typer.Option("FD001", "--subset", help="C-MAPSS subset, e.g. FD001."),
        seeds: int = typer.Option(3, "--seeds", min=1, help="Runs to average over."),
        jobs: int = typer.Option(1, "--jobs", min=1, help="Threads per LightGBM model."),
        params: str = typer.Option(
            "", "--params", help='RulEstimator settings as JSON, e.g. {"n_estimators": 60}.'
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """RUL on C-MAPSS: RMSE, PHM08 score and 90% interval coverage at the last test cycle."""
        import json

        from prognos.bench.rul import run

        est = json.loads(params) if params else None
        if as_json:
            result = run(subset, data, seeds, jobs, params=est)
        else:
            with bars() as progress:
                task = progress.add_task(f"{subset}: training over {seeds} seeds", total=seeds)
                result = run(
                    subset, data, seeds, jobs, lambda _: progress.advance(task), params=est
                )
        emit(result, as_json=as_json, title=f"prognos bench rul ({subset})")
