"""How every benchmark reports: JSON on stdout with --json, else a readable table."""

from __future__ import annotations

import json
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
