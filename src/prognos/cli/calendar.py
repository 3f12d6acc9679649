"""``prognos calendar import``: a site's production calendar from an iCalendar (.ics) file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from prognos.cli import _context as ctx
from prognos.cli._output import say
from prognos.domain.keys import MANUFACTURER


def register(app: typer.Typer) -> None:
    cal = typer.Typer(help="Sites' production calendars (when the planner may put jobs).")

    @cal.command("import")
    def import_ics(
        path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="An .ics file.")],
        site: Annotated[str, typer.Option(help="The site whose calendar it is.")],
        days: Annotated[int, typer.Option(help="Days ahead to expand recurring events.")] = 400,
        db: Annotated[str | None, typer.Option(help="Store (default: PROGNOS_DB).")] = None,
    ) -> None:
        """Replace a site's calendar with the events of an iCalendar file; an event's kind is its
        X-PROGNOS-KIND, its CATEGORIES, or a word of its summary (shift, stop or maintenance,
        shutdown, blackout or freeze)."""
        with ctx.local_platform(ctx.settings(db), create=False) as p:
            c = p.calendars.import_ics(MANUFACTURER, site, path.read_bytes(), days=days)
        kinds: dict[str, int] = {}
        for w in c.windows:
            kinds[w.kind.value] = kinds.get(w.kind.value, 0) + 1
        listed = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "no windows"
        say(("imported", "green"), f" {listed} into the calendar of {site} ({c.timezone})")

    app.add_typer(cal, name="calendar")
