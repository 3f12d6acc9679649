"""How every CLI command prints: the one place its consoles, tables and progress bars are made.

What a command prints is mostly the user's own data (ids, names, reasons, paths), so it goes
out as it is: no rich markup (a key named ``[red]x`` prints its brackets), no emoji codes, no
highlighting, and rich breaks no line (``soft_wrap``): a path or a command stays whole for the
terminal to show or the file to keep. A table fits the terminal it is shown on; written to a
pipe or a file it takes the width it needs, whatever ``COLUMNS`` says, so no row is cut at 80
columns. Errors go their own plain way (``say_error``).

    from prognos.cli._output import out, say, show, table
    say(("created", "green"), f" a key for {who}")   # a word in colour, the rest as it is
    t = table("id", "name", title="API keys")
    t.add_row(k.id, k.name)
    show(t)
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn
from rich.table import Table
from rich.text import Text

_WIDE = 1_000_000  # off a terminal a table is as wide as its rows


def console(*, stderr: bool = False) -> Console:
    """A console that prints text as given: no markup, emoji codes or highlighting, no wrap."""
    return Console(stderr=stderr, markup=False, emoji=False, highlight=False, soft_wrap=True)


out = console()
err = console(stderr=True)


def say(*parts: str | tuple[str, str], to: Console | None = None) -> None:
    """One line of plain strings and (text, style) pairs; markup in them stays text."""
    (to or out).print(Text.assemble(*parts))


def table(
    *columns: str,
    title: str | None = None,
    caption: str | None = None,
    whole: tuple[str, ...] = (),
    right: tuple[str, ...] = (),
) -> Table:
    """A table whose cells are shown as text (the console reads no markup in them); the
    ``whole`` columns (ids, times) are never wrapped, the ``right`` ones (numbers) aligned."""
    t = Table(title=title, caption=caption)
    for c in columns:
        t.add_column(c, no_wrap=c in whole, justify="right" if c in right else "left")
    return t


def show(t: Table, to: Console | None = None) -> None:
    """``t`` fitted to the terminal, or whole (as wide as its widest row) in a pipe or file."""
    to = to or out
    if to.is_terminal:
        to.print(t, soft_wrap=False)
        return
    wide = Console(
        file=to.file, width=_WIDE, markup=False, emoji=False, highlight=False, color_system=None
    )
    width = Measurement.get(wide, wide.options, t).maximum
    wide.print(t, width=width, crop=False)


def progress_bars(*columns: ProgressColumn | str, transient: bool = True) -> Progress:
    """Progress bars on stdout; a column given as a string is a text column without markup
    (a label naming a file or an asset type is shown as it is)."""
    cols = [TextColumn(c, markup=False) if isinstance(c, str) else c for c in columns]
    return Progress(*cols, console=out, transient=transient)


@contextmanager
def step_bars(to: Console | None = None) -> Iterator[Callable[[str, int, int], None]]:
    """A ``progress(label, done, total)`` callback drawing one bar per label, for the service's
    long steps (training, fleet scoring); a label (an asset type, a step) is shown as it is."""
    with Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}", markup=False),
        console=to or out,
        transient=True,
    ) as bars:
        tasks: dict[str, Any] = {}

        def update(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bars.add_task(label, total=total)
            bars.update(tasks[label], completed=done, total=total)

        yield update


def say_error(message: str, hint: str | None = None) -> None:
    """An error as plain sentences on stderr: no markup (brackets in a message stay), no
    wrapping (a path or a command stays on one line whatever the terminal's width)."""
    print(f"error: {message}", file=sys.stderr)
    if hint:
        print(f"next: {hint}", file=sys.stderr)


__all__ = [
    "BarColumn",
    "console",
    "err",
    "out",
    "progress_bars",
    "say",
    "say_error",
    "show",
    "step_bars",
    "table",
]
