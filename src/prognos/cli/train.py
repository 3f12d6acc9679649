"""``prognos train`` and ``prognos forecast``: fit models from stored telemetry and score the fleet."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from prognos.bench._output import progress_bars
from prognos.cli import _context as ctx
from prognos.cli import _output as output
from prognos.domain.keys import MANUFACTURER


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        asset_type: Annotated[
            str, typer.Option("--asset-type", help="Asset type to train a RUL model for.")
        ],
        db: Annotated[str | None, typer.Option(help="Store (default: PROGNOS_DB).")] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print the model card as JSON.")
        ] = False,
    ) -> None:
        """Train the models of an asset type from stored telemetry: health, and RUL from failures.

        Types with a wear channel and threshold need no RUL training: each asset's own trend is
        extrapolated when it is forecast.
        """
        from prognos.errors import ModelError

        cards: dict = {}
        with (
            ctx.local_platform(ctx.settings(db), create=False) as p,
            progress_bars(output.out) as report,
        ):
            cards["health"] = p.training.train_health(MANUFACTURER, asset_type, progress=report)
            if p.registry.asset_type(MANUFACTURER, asset_type).failure_threshold:
                cards["rul"] = {"skipped": "wear-trend type: forecast per asset from its own trend"}
            else:
                try:
                    cards["rul"] = p.training.train(MANUFACTURER, asset_type, progress=report)
                except ModelError as e:
                    cards["rul"] = {"skipped": e.message, "hint": e.hint}
        if as_json:
            print(json.dumps(cards, indent=2, default=str))
            return
        h = cards["health"]
        output.say(
            ("health model", "green"), f" {h['id']} from the early life of {h['assets']} assets"
        )
        card = cards["rul"]
        if "skipped" in card:
            output.say(
                ("RUL model skipped:", "yellow"),
                f" {card['skipped']}" + (f" ({card['hint']})" if card.get("hint") else ""),
            )
        else:
            m = card["metrics"]
            output.say(
                ("RUL model", "green"),
                f" {card['id']} (version {card['version']}) on {card['units']} "
                f"run-to-failure histories in {card['train_seconds']} s",
            )
            output.say(
                f"held-out units: RMSE {m['val_rmse']:.1f} {card['time_unit']}, "
                f"90 % interval coverage {m['val_coverage_90']:.0%} over {m['val_cases']} cases"
            )
        output.say("next: `prognos forecast` scores every asset")

    @app.command("forecast")
    def forecast(
        asset: Annotated[
            list[str] | None, typer.Option(help="Only these assets (repeatable).")
        ] = None,
        dask: Annotated[
            str | None,
            typer.Option(
                "--dask",
                help="Read and score on this Dask scheduler's workers (tcp://HOST:PORT); they "
                "need prognos installed and a way to the database.",
            ),
        ] = None,
        dask_db: Annotated[
            str | None,
            typer.Option(
                "--dask-db",
                help="What the workers read (default: the store): with DuckDB, a copy of the "
                "file that no process writes to, since DuckDB lets no one read a file it writes.",
            ),
        ] = None,
        db: Annotated[str | None, typer.Option(help="Store (default: PROGNOS_DB).")] = None,
    ) -> None:
        """Forecast the time to failure of every asset whose type has a trained model."""

        with (
            ctx.local_platform(ctx.settings(db), create=False) as p,
            progress_bars(output.out) as report,
        ):
            out = p.scoring.score_fleet(
                MANUFACTURER, asset or None, dask_address=dask, progress=report, read_from=dask_db
            )
        output.say(
            ("forecast", "green"),
            f" {out['assets']} assets in {out['seconds']} s ({out['engine']})",
        )
