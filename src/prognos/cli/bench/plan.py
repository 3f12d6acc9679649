"""``prognos bench plan``: two years under four maintenance policies, or one large plan timed
(the measuring is in ``prognos.bench.plan``)."""

from __future__ import annotations

from pathlib import Path

import typer

from prognos.cli.bench._common import bars, emit


def register(bench_app: typer.Typer) -> None:
    """Add `prognos bench plan`."""

    @bench_app.command("plan")
    def plan_cmd(
        as_json: bool = typer.Option(False, "--json", help="Print JSON only."),
        scale: bool = typer.Option(False, "--scale", help="Time one large plan instead."),
        assets: int = typer.Option(10_000, "--assets", help="With --scale: how many assets."),
        workers: int = typer.Option(
            0, "--workers", help="With --scale: Dask worker processes (0: plan in this process)."
        ),
        seed: int = typer.Option(0, "--seed"),
        data: Path | None = typer.Option(None, "--data", help="Folder with C-MAPSS files."),
    ) -> None:
        """Simulate two years under four maintenance policies (or time one large plan)."""
        from prognos.bench.plan import run_fleet, run_scale

        if scale:
            emit(run_scale(seed, assets=assets, workers=workers), as_json=as_json,
                 title="prognos bench plan --scale")  # fmt: skip
            return
        if as_json:
            result = run_fleet(seed, data)
        else:
            with bars() as bar:
                tasks: dict[str, int] = {}

                def tick(name: str) -> None:
                    if name not in tasks:
                        tasks[name] = bar.add_task(name, total=730)
                    bar.advance(tasks[name])

                result = run_fleet(seed, data, progress=tick)
        emit(result, as_json=as_json, title="prognos bench plan")
