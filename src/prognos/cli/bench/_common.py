"""What the bench commands share: how a result is printed, their progress bars, and the store
option's check."""

from __future__ import annotations

import json
from typing import Any

import typer

from prognos.cli._output import BarColumn, progress_bars, show, table


def emit(result: dict[str, Any], *, as_json: bool, title: str) -> None:
    """JSON on stdout with --json, else a table of dotted metric names and values; a value is
    shown as it is (a path or a label with brackets keeps them: the console reads no markup)."""
    if as_json:
        print(json.dumps(result, indent=2, default=str))
        return
    t = table("metric", "value", title=title, right=("value",))

    def walk(prefix: str, obj: Any) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            t.add_row(prefix, f"{obj:.4g}" if isinstance(obj, float) else str(obj))

    walk("", result)
    show(t)


def bars():
    """The bars a benchmark draws while it runs (labels as given, no markup), kept at the end."""
    return progress_bars(
        "{task.description}", BarColumn(), "{task.percentage:>3.0f}%", transient=False
    )


def check_store(store: str) -> None:
    """A usage error for a store the benchmarks cannot open, before any work starts."""
    from prognos.bench._stores import store_problem

    problem = store_problem(store)
    if problem:
        raise typer.BadParameter(problem)
