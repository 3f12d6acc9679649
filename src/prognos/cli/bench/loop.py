"""``prognos bench loop``: the platform's own workers against the simulator (the measuring is
in ``prognos.bench.loop``)."""

from __future__ import annotations

import typer

from prognos.cli.bench._common import emit


def register(bench_app: typer.Typer) -> None:
    """Add `prognos bench loop`."""

    @bench_app.command("loop")
    def loop_cmd(
        as_json: bool = typer.Option(False, "--json", help="Print JSON only."),
        days: float = typer.Option(90.0, "--days", help="Simulated days to run."),
        day_seconds: float = typer.Option(
            20.0, "--day-seconds", help="Wall-clock seconds per simulated day."
        ),
        seed: int = typer.Option(0, "--seed"),
        max_units: int | None = typer.Option(
            None, "--max-units", help="Turbofans per C-MAPSS split (default: all)."
        ),
    ) -> None:
        """Run the platform's own workers against the simulator; prevention and alarms."""
        from prognos.bench.loop import run_loop

        emit(run_loop(days, day_seconds, seed, max_units), as_json=as_json,
             title="prognos bench loop")  # fmt: skip
