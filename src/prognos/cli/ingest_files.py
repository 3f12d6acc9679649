"""``prognos ingest file`` and ``prognos ingest cmapss``: telemetry from files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from prognos.cli import _context as ctx
from prognos.cli._output import BarColumn, progress_bars, say
from prognos.cli.ingest import ingest_app
from prognos.domain.keys import MANUFACTURER


def register(app: typer.Typer) -> None:
    """The commands hang on the ``ingest`` group defined in ``prognos.cli.ingest``."""


def _report(res, what: str) -> None:
    say(
        ("stored", "green"),
        f" {res.accepted:,} readings from {what}"
        + (f", {res.duplicates:,} already stored" if res.duplicates else ""),
    )
    if res.rejected:
        say(("quarantined", "yellow"), f" {len(res.rejected):,} records; the first ones:")
        for r in res.rejected[:5]:
            say(f"  record {r.index}, field {r.field}: {r.reason}")
        say("see them all with `prognos quarantine`")


@ingest_app.command("file")
def ingest_file(
    path: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="CSV (any delimiter, .gz ok) or Parquet."),
    ],
    asset: Annotated[
        str | None, typer.Option(help="Asset id for files without an asset_id column.")
    ] = None,
    start: Annotated[
        datetime | None, typer.Option(help="Time of the first row, for files without timestamps.")
    ] = None,
    interval: Annotated[
        float | None, typer.Option(help="Seconds between rows, with --start.")
    ] = None,
    sep: Annotated[
        str | None, typer.Option(help="CSV delimiter (default: guessed from the header).")
    ] = None,
    db: Annotated[str | None, typer.Option(help="Store (default: PROGNOS_DB).")] = None,
) -> None:
    """Load a telemetry file: long (asset_id, ts, channel, value) or wide (one column per channel)."""
    s = ctx.settings(db)
    with (
        ctx.local_platform(s) as p,
        progress_bars("{task.description}", BarColumn(), "{task.completed:,} rows") as bar,
    ):
        task = bar.add_task(f"reading {path.name}", total=None)
        res = p.files.ingest(
            MANUFACTURER,
            path,
            asset_id=asset,
            start=start,
            interval_s=interval,
            sep=sep,
            progress=lambda _n, done, _t: bar.update(task, completed=done),
        )
    _report(res, path.name)


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
