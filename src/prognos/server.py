"""The running platform as one ASGI app: the API, the control panel, and in-process workers.

``prognos serve`` runs this. The workers the settings ask for (``service.hosting``) run inside
it, and the demo's simulator when ``PROGNOS_SIMULATE`` is set; all share one lifecycle and
report at ``GET /api/v1/status``.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from prognos.api import create_app
from prognos.api.deps import PrincipalDep
from prognos.api.schemas import PlatformStatus
from prognos.config import Settings
from prognos.domain.keys import MANUFACTURER
from prognos.service import health
from prognos.service.hosting import workers_for
from prognos.service.platform import Platform, open_platform
from prognos.service.workers import Worker
from prognos.web import mount_panel

log = logging.getLogger(__name__)


def create_server_app(
    settings: Settings | None = None, platform: Platform | None = None
) -> FastAPI:
    settings = settings or Settings()
    platform = platform or open_platform(settings)
    app = create_app(settings, platform=platform, owns_platform=True)
    mount_panel(app, platform)
    workers: dict[str, Worker] = {}

    async def start_workers() -> None:
        workers.update(workers_for(platform))
        if settings.simulate:
            from prognos.demo.simulator import simulator_for

            workers["simulator"] = await asyncio.to_thread(simulator_for, platform)
        for w in workers.values():
            w.start()
        if "opcua" in workers:
            from prognos.ingest.opcua_client import ServerUnreachable  # asyncua: only with OPC UA

            # a bad node or a refused login stops the server now, not later in a log line; an
            # unreachable OPC UA server does not: the worker keeps retrying with backoff
            try:
                if not await asyncio.to_thread(workers["opcua"].wait_ready, 30):
                    log.warning("the OPC UA server does not answer yet; the worker keeps trying")
            except ServerUnreachable as e:
                log.warning("%s; the OPC UA worker keeps trying", e)

    async def stop_workers() -> None:
        for name, w in reversed(list(workers.items())):
            await asyncio.to_thread(w.stop)  # each commits the batch in hand before returning
            log.info("stopped %s worker", name)

    app.state.startup_hooks.append(start_workers)
    app.state.shutdown_hooks.append(stop_workers)
    app.state.workers = workers

    @app.get("/api/v1/status", tags=["meta"])
    def status(principal: PrincipalDep) -> PlatformStatus:
        """Store, workers and their connection state (a health signal of their own): this
        server's workers by name, those of other processes on the same store (other servers,
        `prognos ingest mqtt` workers) as `name@host:pid`, from their heartbeats. The
        manufacturer sees each worker's counters and last error; a customer only whether each
        runs (no fleet-wide counters, no broker address)."""
        if not principal.is_manufacturer:  # this server's workers, whether each runs
            return PlatformStatus.model_validate(health.status(principal, platform, workers))
        return PlatformStatus.model_validate(
            {"store": platform.store_kind, "workers": platform.cluster.workers(principal, workers)}
        )

    _metrics(app, platform, workers)
    return app


def _metrics(app: FastAPI, platform: Platform, workers: dict[str, Worker]) -> None:
    """``/metrics`` for Prometheus, the manufacturer's key only (it names hosts and customers'
    traffic): every process's workers from their heartbeats, refresh backlog, store up."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(platform.cluster.collector(MANUFACTURER, workers))

    @app.get("/metrics", include_in_schema=False, response_class=PlainTextResponse)
    def metrics(principal: PrincipalDep) -> PlainTextResponse:
        principal.require_manufacturer()
        return PlainTextResponse(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
