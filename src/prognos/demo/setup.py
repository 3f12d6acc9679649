"""The demo: what `make demo` sets up before serving.

A whole world on the embedded store: the C-MAPSS turbofan fleet at three airlines, elevators and
drive chains at three industrial customers, their production calendars, crews, depots and costs,
months of history; then models are trained, every asset is forecast and a plan is made, so the
panel shows work orders in planned stops from the first page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prognos.demo.history import build_demo_world
from prognos.domain.keys import MANUFACTURER
from prognos.errors import ModelError
from prognos.service.platform import Platform

Progress = Callable[[str, int, int], None]
DEMO_CUSTOMER = "liftwerk"


def setup_demo(
    platform: Platform,
    subset: str = "FD001",
    data_dir: Path | str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Build the world, train, forecast and plan; create a manufacturer and a customer key."""
    t0 = time.perf_counter()
    totals = build_demo_world(platform, seed=0, subset=subset, data_dir=data_dir, progress=progress)
    models = {}
    for t in platform.registry.asset_types(MANUFACTURER):
        models[t.id] = {
            "health": platform.training.train_health(MANUFACTURER, t.id, progress=progress)["id"]
        }
        if not t.failure_threshold:  # wear-threshold types are forecast from each asset's trend
            try:
                card = platform.training.train(MANUFACTURER, t.id, progress=progress)
                models[t.id]["rul"] = card["id"]
                models[t.id]["val_rmse"] = round(card["metrics"]["val_rmse"], 1)
            except ModelError as e:
                models[t.id]["rul"] = f"skipped: {e.message}"
    scored = platform.scoring.score_fleet(MANUFACTURER, progress=progress)
    plan = platform.planning.plan(MANUFACTURER, horizon_days=56, time_limit_s=20)
    maker_key, _ = platform.keys.create(MANUFACTURER, None, "demo manufacturer")
    customer_key, _ = platform.keys.create(MANUFACTURER, DEMO_CUSTOMER, f"demo {DEMO_CUSTOMER}")
    return {
        **totals,
        "models": models,
        "forecasts": scored["assets"],
        "jobs": len(plan["plan"]["jobs"]),
        "work_orders": len(plan["created"]),
        "manufacturer_key": maker_key,
        "customer": DEMO_CUSTOMER,
        "customer_key": customer_key,
        "setup_seconds": round(time.perf_counter() - t0, 1),
    }
