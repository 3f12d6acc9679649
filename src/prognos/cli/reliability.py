"""``prognos reliability fit``: component lifetimes (censored Weibull) from labelled events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from prognos.cli import _context as ctx
from prognos.cli._output import say, show, table
from prognos.domain.keys import MANUFACTURER

Opt = typer.Option


def register(app: typer.Typer) -> None:
    rel = typer.Typer(help="Lifetimes of parts from failure and replacement events.")

    @rel.command("fit")
    def fit(
        asset_type: Annotated[str, Opt("--asset-type", help="Asset type whose events to fit.")],
        covariate: Annotated[
            list[str] | None,
            Opt(help="age (asset age in years) or model (asset model), repeatable."),
        ] = None,
        from_first_event: Annotated[
            bool,
            Opt(
                "--from-first-event",
                help="Records began after installation: drop each part's first life (its "
                "start is unknown) instead of counting it from installed_at.",
            ),
        ] = False,
        until: Annotated[
            datetime | None,
            Opt(
                help="End of the data: lives in progress are censored here (default: newest "
                "event or reading of the type)."
            ),
        ] = None,
        as_json: Annotated[bool, Opt("--json", help="Print the fit as JSON.")] = False,
        db: Annotated[str | None, Opt(help="Store (default: PROGNOS_DB).")] = None,
    ) -> None:
        """Fit a Weibull per component from events; `prognos forecast` then forecasts assets
        whose type has no sensor RUL model from it."""
        if until is not None and until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        with ctx.local_platform(ctx.settings(db), create=False) as p:
            card = p.reliability.fit(
                MANUFACTURER,
                asset_type,
                covariates=covariate or [],
                from_installation=not from_first_event,
                until=until,
            )
        if as_json:
            print(json.dumps(card, indent=2, default=str))
            return
        unit = card["time_unit"]
        t = table(
            "component", "lives", "failures", "censored", "shape", f"scale ({unit})",
            f"mean life ({unit})", "Weibull better than exponential",
            title=f"reliability of {asset_type} ({card['lives']} lives, data until "
            f"{(card['until'] or '?')[:10]})",
            right=("lives", "failures", "censored", "shape"),
        )  # fmt: skip
        for comp, r in card["components"].items():
            if "skipped" in r:
                t.add_row(comp, "", "", "", "", "", "", r["skipped"])
                continue
            t.add_row(
                comp, str(r["n_lives"]), str(r["n_events"]), str(r["n_censored"]),
                f"{r['shape']:.2f}", f"{r['scale']:.1f}", f"{r['mean_life']:.1f}",
                "yes" if r["aic_weibull"] < r["aic_exponential"] else "no",
            )  # fmt: skip
        show(t)
        say(("stored", "green"), f" {card['id']}; next: `prognos forecast`")

    app.add_typer(rel, name="reliability")
