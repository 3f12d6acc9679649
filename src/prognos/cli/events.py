"""``prognos events``: labelled failures, replacements, repairs and inspections from files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from prognos.cli import _context as ctx
from prognos.cli._output import say, show, table
from prognos.domain.keys import MANUFACTURER

Opt = typer.Option


def _where(values: list[str]) -> dict[str, str]:
    out = {}
    for v in values:
        col, sep, val = v.partition("=")
        if not sep:
            raise typer.BadParameter(f"{v!r}: give COLUMN=VALUE", param_hint="--where")
        out[col] = val
    return out


def register(app: typer.Typer) -> None:
    events = typer.Typer(
        help="Labelled events: what training, reliability and backtests learn from.",
        no_args_is_help=True,
    )

    @events.command("load")
    def load(
        path: Annotated[Path, typer.Argument(help="CSV (or Parquet) file, one event a row.")],
        kind: Annotated[
            str | None,
            Opt(help="One kind for every row: failure, replacement, repair or inspection."),
        ] = None,
        asset: Annotated[str | None, Opt(help="One asset for every row.")] = None,
        asset_column: Annotated[str | None, Opt(help="Column holding the asset id.")] = None,
        asset_prefix: Annotated[str | None, Opt(help="Put before each asset id.")] = None,
        time_column: Annotated[str | None, Opt(help="Column holding the time.")] = None,
        time_format: Annotated[
            str | None, Opt(help="strftime format of the times, or epoch_s/epoch_ms.")
        ] = None,
        timezone: Annotated[
            str | None, Opt(help="Zone of times without offset (default: the site's).")
        ] = None,
        cycle_column: Annotated[
            str | None, Opt(help="Column holding the asset's age in cycles (no time).")
        ] = None,
        kind_column: Annotated[str | None, Opt(help="Column holding the kind.")] = None,
        component_column: Annotated[
            str | None, Opt(help="Column naming the component (part) concerned.")
        ] = None,
        failure_mode_column: Annotated[str | None, Opt(help="Column naming the mode.")] = None,
        note_column: Annotated[str | None, Opt(help="Column with a free-text note.")] = None,
        where: Annotated[
            list[str] | None, Opt(help="COLUMN=VALUE: only rows where it holds (repeatable).")
        ] = None,
        sep: Annotated[str | None, Opt(help="CSV delimiter (default: guessed).")] = None,
        db: Annotated[str | None, Opt(help="Store (default: PROGNOS_DB).")] = None,
    ) -> None:
        """Store the events of a file (the same event twice is stored once)."""
        from prognos.service.event_files import EventColumns

        o = EventColumns(
            asset=asset,
            asset_column=asset_column,
            asset_prefix=asset_prefix or "",
            time_column=time_column,
            time_format=time_format,
            timezone=timezone,
            cycle_column=cycle_column,
            kind=kind,
            kind_column=kind_column,
            component_column=component_column,
            failure_mode_column=failure_mode_column,
            note_column=note_column,
            where=_where(where or []),
            sep=sep,
        )
        with ctx.local_platform(ctx.settings(db), create=False) as p:
            out = p.event_files.load(MANUFACTURER, path, o)
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(out["kinds"].items()))
        say(
            ("stored", "green"),
            f" {out['stored']} events from {path.name} ({kinds})"
            + (f"; {out['unchanged']} were stored already" if out["unchanged"] else ""),
        )

    @events.command("list")
    def list_events(
        asset: Annotated[str, typer.Argument(help="Asset id.")],
        as_json: Annotated[bool, Opt("--json", help="Print JSON.")] = False,
        db: Annotated[str | None, Opt(help="Store (default: PROGNOS_DB).")] = None,
    ) -> None:
        """An asset's labelled events, oldest first."""
        with ctx.local_platform(ctx.settings(db), create=False) as p:
            items = p.events.of_asset(MANUFACTURER, asset)
        if as_json:
            print(json.dumps(items, indent=2, default=str))
            return
        t = table("at", "kind", "component", "mode", "note", title=f"events of {asset}")
        for e in items:
            t.add_row(
                e["at"][:19],
                e["kind"],
                e.get("component") or "",
                e.get("failure_mode") or "",
                e.get("note") or e.get("condition") or "",
            )
        show(t)

    app.add_typer(events, name="events")
