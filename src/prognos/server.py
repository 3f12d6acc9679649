"""The running platform as one ASGI app: the API, the control panel, and in-process workers.

``prognos serve`` runs this. On the embedded DuckDB default the server is the one process that
writes the file, so the workers the settings ask for run inside it: the forecast refresher
always, the nightly telemetry compaction on DuckDB (``PROGNOS_COMPACT_HOUR``), an MQTT ingest
worker when ``PROGNOS_MQTT_BROKER`` is set, an OPC UA worker when ``PROGNOS_OPCUA_MAPPING`` is
set. Their state is at ``GET /api/v1/status``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import FastAPI

from prognos.api import create_app
from prognos.api.deps import PrincipalDep
from prognos.config import Settings
from prognos.service.platform import Platform, open_platform
from prognos.service.refresh import ForecastRefresher
from prognos.web import mount_panel

log = logging.getLogger(__name__)


def create_server_app(
    settings: Settings | None = None, platform: Platform | None = None
) -> FastAPI:
    settings = settings or Settings()
    platform = platform or open_platform(settings)
    app = create_app(settings, platform=platform, owns_platform=True)
    mount_panel(app, platform)
    workers: dict[str, Any] = {}

    async def start_workers() -> None:
        if settings.refresh_interval > 0:
            workers["forecast_refresh"] = ForecastRefresher(
                platform, settings.refresh_interval
            ).start()
        if settings.compact_hour >= 0 and platform.store.kind == "duckdb":
            from prognos.service.upkeep import NightlyCompaction

            workers["compaction"] = NightlyCompaction(platform, settings.compact_hour).start()
        if settings.mqtt_broker:
            from prognos.service.workers import mqtt_worker

            w = mqtt_worker(platform, settings)
            w.start()
            workers["mqtt"] = w
        if settings.simulate:
            from prognos.service.simulate import Simulator, live_fleet

            fleet = await asyncio.to_thread(live_fleet, platform)
            target = settings.mqtt_broker or platform
            workers["simulator"] = Simulator(
                target, fleet, settings.simulate_speed, platform=platform
            ).start()
        if settings.opcua_mapping:
            from prognos.ingest.opcua_client import ServerUnreachable
            from prognos.service.opcua_worker import OpcUaWorker

            w = OpcUaWorker.from_file(platform, settings.opcua_mapping)
            task = asyncio.create_task(w.run(), name="prognos-opcua")
            task.add_done_callback(_log_crash)
            workers["opcua"] = w
            # a bad node or a refused login stops the server now, not later in a log line; an
            # unreachable OPC UA server does not: the worker keeps retrying with backoff
            try:
                await w.wait_ready(timeout=30)
            except ServerUnreachable as e:
                log.warning("%s; the OPC UA worker keeps trying", e)

    async def stop_workers() -> None:
        for name, w in reversed(list(workers.items())):
            if asyncio.iscoroutinefunction(w.stop):
                await w.stop()
            else:  # thread-based workers commit their batch in hand before returning
                await asyncio.to_thread(w.stop)
            log.info("stopped %s worker", name)

    app.state.startup_hooks.append(start_workers)
    app.state.shutdown_hooks.append(stop_workers)

    @app.get("/api/v1/status", tags=["meta"])
    def status(principal: PrincipalDep) -> dict:
        """Store, workers and their connection state (a health signal of their own)."""
        out: dict[str, Any] = {"store": platform.store.kind, "workers": {}}
        for name, w in workers.items():
            out["workers"][name] = w.status() if hasattr(w, "status") else {"running": True}
        return out

    return app


def _log_crash(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("OPC UA worker stopped: %s", task.exception())
