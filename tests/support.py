"""Helpers for tests: a small seeded world, an app served for real, waiting for something to
happen. Imported as ``support``."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from prognos import devservers
from prognos.domain import Asset, AssetType, Channel, Customer, Site
from prognos.domain.keys import MANUFACTURER
from prognos.service.platform import Platform

PUMP = AssetType(
    id="pump",
    name="Pump",
    time_unit="hours",
    channels=[
        Channel(name="temp", unit="degC", min=-40, max=150),
        Channel(name="vibration", unit="mm/s", min=0, max=50),
    ],
)
INSTALLED = datetime(2025, 1, 1, tzinfo=UTC)


def seed(platform: Platform) -> None:
    """Two customers, each with a site and two pumps."""
    platform.registry.add_asset_type(MANUFACTURER, PUMP)
    for c in ("acme", "globex"):
        platform.registry.add_customer(MANUFACTURER, Customer(id=c, name=c.title()))
        platform.registry.add_site(
            MANUFACTURER,
            Site(id=f"{c}-plant", customer_id=c, name=f"{c} plant", timezone="Europe/Berlin"),
        )
        platform.registry.add_assets(
            MANUFACTURER,
            [
                Asset(
                    id=f"{c}-p{i}",
                    customer_id=c,
                    site_id=f"{c}-plant",
                    type_id="pump",
                    serial=f"SN-{c}-{i}",
                    installed_at=INSTALLED,
                )
                for i in (1, 2)
            ],
        )


@contextmanager
def running_app(app) -> Iterator[str]:
    """Serve ``app`` (lifespan included) with uvicorn in a thread; yields its base URL."""
    import uvicorn

    port = devservers.free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        devservers.wait_for_port(port, timeout=30)
        while not server.started:
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def wait_until(cond, timeout: float, what: str, poll: float = 0.02) -> None:
    """Poll ``cond`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(poll)
