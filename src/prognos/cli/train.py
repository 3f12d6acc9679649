"""``prognos train`` and ``prognos forecast``: fit models from stored telemetry and score the fleet."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer

from prognos.cli import _context as ctx
from prognos.cli import _output as output
from prognos.cli._output import step_bars as progress_bars
from prognos.domain.keys import MANUFACTURER

Opt = typer.Option


def _say_classifier(card: dict | None) -> None:
    """One line on the failure-within-horizon classifier: kept, or why not."""
    if card is None:
        return
    v = card.get("validation", card)
    if "skipped" in card and "validation" not in card:
        hint = f" ({card['hint']})" if card.get("hint") else ""
        output.say(("failure classifier skipped:", "yellow"), f" {card['skipped']}{hint}")
        return
    base = ", ".join(f"{k} {_auc(a)}" for k, a in v["baselines"].items())
    line = (
        f" P(failure within {v['horizon']:g} {v['time_unit']}): out-of-fold AUC {_auc(v['auc'])}"
        f", Brier {v['brier']:.3f} ({v['chosen']}, {v['folds']} folds over {v['folds_over']});"
        f" baselines: {base}"
    )
    if "skipped" in card:
        output.say(("failure classifier not kept:", "yellow"), line + f"; {card['skipped']}")
    else:
        output.say(("failure classifier", "green"), f" {card['id']}:" + line)


def _auc(v) -> str:
    return "-" if v is None else f"{v:.2f}"


def _say_cards(cards: dict) -> None:
    h = cards["health"]
    if "skipped" in h:
        output.say(("health model skipped:", "yellow"), f" {h['skipped']}")
    else:
        output.say(
            ("health model", "green"), f" {h['id']} from the early life of {h['assets']} assets"
        )
        gone = h.get("left_out") or {}
        if gone.get("channels") or gone.get("assets"):
            output.say(
                f"  left out: channels {gone.get('channels') or 'none'} (most assets lack them), "
                f"assets {gone.get('assets') or 'none'} (they lack a kept channel)"
            )
    card = cards["rul"]
    if "skipped" in card:
        output.say(
            ("RUL model skipped:", "yellow"),
            f" {card['skipped']}" + (f" ({card['hint']})" if card.get("hint") else ""),
        )
        return
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
    gone = card.get("left_out") or {}
    if gone.get("channels") or gone.get("lives"):
        lives = ", ".join(f"{k} ({v})" for k, v in list(gone.get("lives", {}).items())[:10])
        output.say(
            f"  left out: channels {gone.get('channels') or 'none'}; lives {lives or 'none'}"
        )


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        asset_type: Annotated[str, Opt("--asset-type", help="Asset type to train models for.")],
        since: Annotated[
            datetime | None, Opt(help="Learn only from lives and readings from this time on.")
        ] = None,
        until: Annotated[
            datetime | None, Opt(help="Learn only from lives and readings up to this time.")
        ] = None,
        min_lives: Annotated[
            int | None, Opt(help="Lives a RUL model needs (default: PROGNOS_MIN_LIVES, 5).")
        ] = None,
        db: Annotated[str | None, Opt(help="Store (default: PROGNOS_DB).")] = None,
        as_json: Annotated[bool, Opt("--json", help="Print the model cards as JSON.")] = False,
    ) -> None:
        """Train the models of an asset type from stored telemetry: health, and RUL from failures.

        Types with a wear channel and threshold need no RUL training: each asset's own trend is
        extrapolated when it is forecast.
        """
        from prognos.errors import ModelError

        since = since and _utc(since)
        until = until and _utc(until)
        cards: dict = {}
        with (
            ctx.local_platform(ctx.settings(db), create=False) as p,
            progress_bars(output.out) as report,
        ):
            try:
                cards["health"] = p.training.train_health(
                    MANUFACTURER, asset_type, progress=report, since=since, until=until
                )
            except ModelError as e:
                cards["health"] = {"skipped": e.message, "hint": e.hint}
            if p.registry.asset_type(MANUFACTURER, asset_type).failure_threshold:
                cards["rul"] = {"skipped": "wear-trend type: forecast per asset from its own trend"}
            else:
                try:
                    cards["rul"] = p.training.train(
                        MANUFACTURER,
                        asset_type,
                        progress=report,
                        min_lives=min_lives,
                        since=since,
                        until=until,
                    )
                except ModelError as e:
                    cards["rul"] = {"skipped": e.message, "hint": e.hint}
            # the classifier forecasts a type without a sensor RUL model: fitted only there
            if p.settings.failure_classifier and p.forecasts.model_for(asset_type) is None:
                try:
                    cards["classifier"] = p.training.train_classifier(
                        MANUFACTURER, asset_type, since=since, until=until
                    )
                except ModelError as e:
                    cards["classifier"] = {"skipped": e.message, "hint": e.hint}
            how, health = p.fleet_forecasts.plan_of(p.registry.asset_type(MANUFACTURER, asset_type))
        if as_json:
            print(json.dumps(cards, indent=2, default=str))
            return
        _say_cards(cards)
        _say_classifier(cards.get("classifier"))
        if how is not None:
            output.say("next: `prognos forecast` forecasts and scores every asset")
        elif health:
            output.say(
                "next: `prognos forecast` gives health scores (no failure model yet); "
                "`prognos reliability fit` makes failure forecasts from events"
            )

    @app.command("forecast")
    def forecast(
        asset: Annotated[list[str] | None, Opt(help="Only these assets (repeatable).")] = None,
        history: Annotated[
            bool,
            Opt("--history", help="Score stored history at past moments (no alarms raised)."),
        ] = False,
        points: Annotated[
            int, Opt(help="With --history: moments per asset (0: every reading time).")
        ] = 100,
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
        as_json: Annotated[bool, Opt("--json", help="Print what was done as JSON.")] = False,
        db: Annotated[str | None, Opt(help="Store (default: PROGNOS_DB).")] = None,
    ) -> None:
        """Forecast every asset with the models its type has, and say per type what was done."""
        with (
            ctx.local_platform(ctx.settings(db), create=False) as p,
            progress_bars(output.out) as report,
        ):
            if history:
                out = p.fleet_forecasts.history(
                    MANUFACTURER, asset or None, points=points or None, progress=report
                )
            else:
                out = p.fleet_forecasts.run(
                    MANUFACTURER,
                    asset or None,
                    dask_address=dask,
                    progress=report,
                    read_from=dask_db,
                )
        if as_json:
            print(json.dumps(out, indent=2, default=str))
            return
        t = output.table(
            "type", "assets", "forecast by", "forecasts", "health", title="what was done",
            right=("assets", "forecasts"),
        )  # fmt: skip
        for r in out["types"]:
            h = r.get("health_scores", "yes" if r.get("health") else "no")
            t.add_row(
                r["type_id"], str(r["assets"]), r["forecast_by"] or "-",
                str(r.get("forecasts", 0)), str(h),
            )  # fmt: skip
        output.show(t)
        for r in out["types"]:
            if r.get("note"):
                output.say(f"{r['type_id']}: {r['note']}")
            if r.get("down"):
                shown = ", ".join(r["down"][:10]) + (" ..." if len(r["down"]) > 10 else "")
                output.say(
                    f"{r['type_id']}: {len(r['down'])} assets not forecast: down since their last "
                    f"failure ({shown}); their next life starts with a replacement event"
                )
        if history:
            output.say("stored as history: no alarm was raised for the past")
        else:
            output.say(
                ("forecast", "green"),
                f" {out['assets']} assets ({out['forecasts']} forecasts) in {out['seconds']} s "
                f"({out['engine']})",
            )


def _utc(t: datetime) -> datetime:
    from datetime import UTC

    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
