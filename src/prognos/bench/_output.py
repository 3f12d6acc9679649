"""How every benchmark reports: JSON on stdout with --json, else a readable table."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.table import Table


def emit(result: dict[str, Any], *, as_json: bool, title: str) -> None:
    if as_json:
        print(json.dumps(result, indent=2, default=str))
        return
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")

    def walk(prefix: str, obj: Any) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            table.add_row(prefix, f"{obj:.4g}" if isinstance(obj, float) else str(obj))

    walk("", result)
    Console().print(table)


@contextmanager
def progress_bars(console: Console | None = None) -> Iterator[Callable[[str, int, int], None]]:
    """A ``progress(label, done, total)`` callback drawing one rich bar per label, for the
    service's long steps (training, fleet scoring) in benchmarks and CLI commands alike."""
    from rich.progress import BarColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=console,
        transient=True,
    ) as bars:
        tasks: dict[str, Any] = {}

        def update(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bars.add_task(label, total=total)
            bars.update(tasks[label], completed=done, total=total)

        yield update
