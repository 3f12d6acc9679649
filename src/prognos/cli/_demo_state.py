"""What `prognos demo` keeps between runs: its world (the DuckDB file) and its logins.

Rebuilding on every `make demo` issued new keys (an old browser session got 401) and threw away
what the simulator had streamed; now a run reuses the world and the logins it finds, and
`prognos demo --fresh` rebuilds both. The logins sit beside the store as `logins.json` (read
back here), `logins.txt` (for people) and `prognos.env` (export lines, so the CLI beside the
running demo reaches the same store and server).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prognos.domain.keys import MANUFACTURER
from prognos.errors import PrognosError

if TYPE_CHECKING:
    from prognos.service.platform import Platform


def clear(folder: Path) -> None:
    db = folder / "prognos.duckdb"
    for f in (db, Path(f"{db}.wal"), folder / "logins.json"):
        f.unlink(missing_ok=True)


def kept_world(p: Platform, folder: Path) -> dict[str, Any] | None:
    """The logins and counts of the world a previous run built, if it is whole (assets, and
    keys that still open it); None means build a new one."""
    try:
        logins = json.loads((folder / "logins.json").read_text())
        p.keys.authenticate(logins["manufacturer_key"])
        p.keys.authenticate(logins["customer_key"])
    except (OSError, ValueError, KeyError, PrognosError):
        return None
    _, assets = p.registry.assets(MANUFACTURER, limit=1)
    if not assets:
        return None
    return {
        **logins,
        "assets": assets,
        "customers": len(p.registry.customers(MANUFACTURER)),
        "readings": p.telemetry.count(MANUFACTURER),
    }


def save_logins(folder: Path, info: dict[str, Any], url: str) -> None:
    logins = {k: info[k] for k in ("manufacturer_key", "customer", "customer_key")}
    (folder / "logins.json").write_text(json.dumps(logins, indent=2) + "\n")
    (folder / "logins.txt").write_text(
        f"manufacturer key: {info['manufacturer_key']}\n"
        f"customer {info['customer']} key: {info['customer_key']}\n"
    )
    (folder / "prognos.env").write_text("\n".join(export_lines(folder, info, url)) + "\n")


def export_lines(folder: Path, info: dict[str, Any], url: str) -> list[str]:
    """What a second shell needs for `prognos keys list`, `prognos plan` ... on this demo."""
    return [
        f"export PROGNOS_DB={folder / 'prognos.duckdb'}",
        f"export PROGNOS_API_URL={url}",
        f"export PROGNOS_API_KEY={info['manufacturer_key']}",
    ]
