"""``prognos ingest file`` and ``prognos ingest cmapss``: telemetry from files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from prognos.cli import _context as ctx
from prognos.cli.ingest import ingest_app
from prognos.domain.keys import MANUFACTURER

console = Console(soft_wrap=True)


def register(app: typer.Typer) -> None:
    """The commands hang on the ``ingest`` group defined in ``prognos.cli.ingest``."""


def _report(res, what: str) -> None:
    console.print(
        f"[green]stored[/] {res.accepted:,} readings from {what}"
        + (f", {res.duplicates:,} already stored" if res.duplicates else "")
    )
    if res.rejected:
        console.print(f"[yellow]quarantined[/] {len(res.rejected):,} records; the first ones:")
        for r in res.rejected[:5]:
            console.print(f"  record {r.index}, field {r.field}: {r.reason}")
        console.print("see them all with `prognos quarantine`")


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
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,} rows"),
            console=console,
            transient=True,
        ) as bar,
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
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            console=console,
        ) as bar,
    ):
        tasks: dict[str, int] = {}

        def progress(split: str, done: int, total: int) -> None:
            if split not in tasks:
                tasks[split] = bar.add_task(f"{subset} {split} engines", total=total)
            bar.update(tasks[split], completed=done)

        out = load_cmapss_fleet(p, subset, data, progress=progress)
    console.print(
        f"[green]registered[/] {out['assets']} engines and stored {out['readings']:,} readings"
        + (f"; {out['rejected']} quarantined" if out["rejected"] else "")
    )
    console.print("next: `prognos train --asset-type turbofan`, then `prognos forecast`")
