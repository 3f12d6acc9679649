"""``prognos ingest file`` and ``prognos ingest cmapss``: telemetry from files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from prognos.cli import _context as ctx
from prognos.cli._output import BarColumn, progress_bars, say, show, table
from prognos.cli.ingest import ingest_app
from prognos.domain.keys import MANUFACTURER


def register(app: typer.Typer) -> None:
    """The commands hang on the ``ingest`` group defined in ``prognos.cli.ingest``."""


def _report(res, what: str) -> None:
    from prognos.service.files import summarise

    say(
        ("stored", "green"),
        f" {res.accepted:,} readings from {what}"
        + (f", {res.duplicates:,} already stored" if res.duplicates else ""),
    )
    if res.rejected:
        say(("quarantined", "yellow"), f" {len(res.rejected):,} records; the commonest reasons:")
        for n, field, why in summarise(res.rejected):
            say(f"  {n:,} x {field}: {why}")
        say("see them with `prognos quarantine`; remove them with `prognos quarantine purge`")


def _channel_options(values: list[str]) -> dict[str, str]:
    out = {}
    for v in values:
        col, sep, ch = v.rpartition("=")
        if not sep or not col:
            raise typer.BadParameter(f"{v!r}: give COLUMN=channel", param_hint="--channel")
        out[col] = ch
    return out


Opt = typer.Option


@ingest_app.command("file")
def ingest_file(
    path: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="CSV (any delimiter, .gz ok) or Parquet file."
        ),
    ],
    mapping: Annotated[
        Path | None, Opt(help="Mapping file (YAML) naming the columns; options override it.")
    ] = None,
    asset: Annotated[str | None, Opt(help="One asset for the whole file.")] = None,
    asset_column: Annotated[str | None, Opt(help="Column holding the asset id.")] = None,
    asset_prefix: Annotated[
        str | None, Opt(help="Put before each asset id of the file (unit 7 -> fd003-7).")
    ] = None,
    time_column: Annotated[
        str | None, Opt(help="Column holding the time (an empty header is column_1).")
    ] = None,
    time_format: Annotated[
        str | None,
        Opt(help="strftime format of the times ('%d.%m.%Y %H:%M'), or epoch_s/epoch_ms."),
    ] = None,
    timezone: Annotated[
        str | None, Opt(help="Zone of times without offset (default: each asset's site's).")
    ] = None,
    cycle_column: Annotated[str | None, Opt(help="Column holding the cycle (no time).")] = None,
    start: Annotated[
        datetime | None, Opt(help="Time of the first row, for files without times.")
    ] = None,
    interval: Annotated[float | None, Opt(help="Seconds between rows, with --start.")] = None,
    channel: Annotated[
        list[str] | None, Opt(help="COLUMN=channel: a column as a registered channel (repeatable).")
    ] = None,
    ignore: Annotated[list[str] | None, Opt(help="A column to leave out (repeatable).")] = None,
    sep: Annotated[
        str | None, Opt(help="CSV delimiter (default: guessed from the header).")
    ] = None,
    no_header: Annotated[bool, Opt("--no-header", help="The first line is data.")] = False,
    names: Annotated[
        str | None, Opt(help="Comma-separated column names (with --no-header, or to rename).")
    ] = None,
    dry_run: Annotated[
        bool, Opt("--dry-run", help="Show how the first rows map; store nothing.")
    ] = False,
    db: Annotated[str | None, Opt(help="Store (default: PROGNOS_DB).")] = None,
) -> None:
    """Load a telemetry file: long (asset, time, channel, value) or wide (a column per channel),
    one or many assets, mapped by options or a mapping file (docs/own-data.md)."""
    from prognos.service.file_mapping import FileMapping

    base = FileMapping.from_file(mapping) if mapping else FileMapping()
    m = base.merged(
        asset=asset,
        asset_column=asset_column,
        asset_prefix=asset_prefix,
        time_column=time_column,
        time_format=time_format,
        timezone=timezone,
        cycle_column=cycle_column,
        start=start,
        interval=interval,
        channels=_channel_options(channel or []),
        ignore=ignore or [],
        sep=sep,
        header=False if no_header else None,
        names=[n.strip() for n in names.split(",")] if names else None,
    )
    s = ctx.settings(db)
    if dry_run:
        with ctx.local_platform(s) as p:
            out = p.files.preview(MANUFACTURER, path, m)
        _show_preview(out, path.name)
        return
    with (
        ctx.local_platform(s) as p,
        progress_bars("{task.description}", BarColumn(), "{task.percentage:>3.0f} %") as bar,
    ):
        task = bar.add_task(f"reading {path.name}", total=None)
        res = p.files.ingest(
            MANUFACTURER,
            path,
            m,
            progress=lambda _n, done, total: bar.update(task, completed=done, total=total),
        )
    _report(res, path.name)
    if res.accepted == 0 and res.duplicates == 0:
        from prognos.cli._output import say_error

        say_error(
            f"nothing was stored from {path.name}: every reading was rejected",
            "look at the reasons above, check the mapping with --dry-run, then "
            "`prognos quarantine purge --source file:" + path.name + "` and load it again",
        )
        raise typer.Exit(1)


def _show_preview(out: dict, name: str) -> None:
    t = table("column", "is", title=f"{name}: how the columns map", whole=("column",))
    for c in out["columns"]:
        t.add_row(c["column"], c["is"])
    show(t)
    r = table("asset", "time (UTC)", "channel", "value", title="the first rows as readings")
    for x in out["readings"][:40]:
        r.add_row(x["asset_id"], x["ts"], x["channel"], f"{x['value']:g}")
    show(r)
    if out["rejected"]:
        say(("would be quarantined", "yellow"), f" {len(out['rejected'])} of these:")
        for x in out["rejected"][:10]:
            say(f"  row {x['index']}, {x['field']}: {x['reason']}")
    say("dry run: nothing was stored")


@ingest_app.command("cmapss")
def ingest_cmapss(
    data: Annotated[
        Path | None, typer.Argument(help="Folder with C-MAPSS files (default: the shipped copy).")
    ] = None,
    subset: Annotated[str, typer.Option(help="FD001, FD002, FD003 or FD004.")] = "FD001",
    db: Annotated[str | None, typer.Option(help="Store (default: PROGNOS_DB).")] = None,
) -> None:
    """Register a C-MAPSS turbofan fleet (customers, sites, engines) and load its histories."""
    from prognos.demo.turbofans import load_cmapss_fleet

    with (
        ctx.local_platform(ctx.settings(db)) as p,
        progress_bars(
            "{task.description}", BarColumn(), "{task.completed}/{task.total}", transient=False
        ) as bar,
    ):
        tasks: dict[str, int] = {}

        def progress(split: str, done: int, total: int) -> None:
            if split not in tasks:
                tasks[split] = bar.add_task(f"{subset} {split} engines", total=total)
            bar.update(tasks[split], completed=done)

        out = load_cmapss_fleet(p, subset, data, progress=progress)
    say(
        ("registered", "green"),
        f" {out['assets']} engines and stored {out['readings']:,} readings"
        + (f"; {out['rejected']} quarantined" if out["rejected"] else ""),
    )
    say("next: `prognos train --asset-type turbofan`, then `prognos forecast`")
