"""The demo fleet: what `make demo` sets up before serving."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from prognos.service.cmapss_fleet import AIRLINES, load_cmapss_fleet
from prognos.service.platform import Platform

Progress = Callable[[str, int, int], None]


def setup_demo(
    platform: Platform,
    subset: str = "FD001",
    data_dir: Path | str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Load the turbofan fleet, create a manufacturer and a customer key; return what to print."""
    totals = load_cmapss_fleet(
        platform,
        subset,
        data_dir,
        progress=lambda split, d, n: (
            progress and progress(f"loading {subset} {split} engines", d, n)
        ),
    )
    maker_key, _ = platform.create_key(None, "demo manufacturer")
    customer = AIRLINES[0][0]
    customer_key, _ = platform.create_key(customer, f"demo {customer}")
    return {
        **totals,
        "customers": len(platform.store.list_customers()),
        "manufacturer_key": maker_key,
        "customer": customer,
        "customer_key": customer_key,
    }
