"""OPC UA ingestion: a mapping checked against the registry, readings into the telemetry.

``OpcUaIngest`` owns one :class:`prognos.ingest.opcua.OpcUaConnector`. At start-up it checks every
mapping entry against the registry (asset exists, channel belongs to the asset's type, unit is the
channel's) and, once connected, against the server (node exists, numeric scalar, EngineeringUnits
match the channel's unit). Any bad entry stops it with a ``ValidationFailed`` that names the entry.
Readings go through ``TelemetryService.ingest_batch`` in a worker thread, one batch at a time, so the
embedded store keeps a single writer. On start it tells the connector the last stored sample of
each channel, so nodes the server historizes are read back from there (a restart of prognos
loses nothing the server kept).

It is an asyncio component; ``OpcUaWorker`` hosts it with the lifecycle every worker shares
(``prognos serve``, ``prognos ingest opcua``)::

    worker = OpcUaWorker(OpcUaIngest.from_file(platform, "mapping.yaml"))  # raises on a bad mapping
    worker.start()                        # returns at once; an event loop on its own thread
    worker.wait_ready(timeout=30)         # raises a bad node or a refused login
    ...                                   # worker.status() -> dict for health checks
    worker.stop()                         # returns after the last delivery and the disconnect
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prognos.domain import ReadingBatch
from prognos.domain.keys import MANUFACTURER
from prognos.errors import ConfigError, ValidationFailed
from prognos.ingest.opcua_mapping import Mapping, MappingItem, same_unit
from prognos.service.workers.base import SupervisedWorker
from prognos.service.workers.mqtt import Hosts

if TYPE_CHECKING:  # asyncua loads when a worker is built, not with every platform
    from prognos.ingest.opcua import OpcUaConnector


class OpcUaIngest:
    """Ingest what one OPC UA server's mapped nodes report into the platform's telemetry."""

    def __init__(
        self,
        platform: Hosts,
        mapping: Mapping,
        *,
        endpoint: str | None = None,
        source: str = "opcua",
        resume: bool = True,
        **connector_options: Any,
    ):
        self.telemetry = platform.telemetry
        self.registry = platform.registry
        # the mapping file is the manufacturer's configuration: it may name any customer's asset
        self.principal = MANUFACTURER
        self.source = source
        endpoint = endpoint or mapping.endpoint
        if not endpoint:
            raise ConfigError(
                f"{mapping.source}: no OPC UA endpoint",
                hint="pass --endpoint opc.tcp://HOST:PORT or set 'endpoint' in the mapping",
            )
        self.mapping = self._checked(mapping)
        self.accepted = 0
        self.duplicates = 0
        self.rejected = 0
        if resume:
            connector_options.setdefault("resume", self._resume_points())
        from prognos.ingest.opcua import OpcUaConnector

        self.connector: OpcUaConnector = OpcUaConnector(
            endpoint, self.mapping, self._deliver, **connector_options
        )

    @classmethod
    def from_file(cls, platform: Hosts, path: str | Path, **kw: Any) -> OpcUaIngest:
        return cls(platform, Mapping.from_file(path), **kw)

    # -- hosting -------------------------------------------------------------------------------
    async def run(self) -> None:
        """Deliver readings until ``stop``; raises start-up errors (see the module docstring)."""
        await self.connector.run()

    async def wait_ready(self, timeout: float | None = None) -> None:
        await self.connector.wait_ready(timeout)

    async def stop(self) -> None:
        """Deliver what is buffered, disconnect, and return when done (at most ~15 s)."""
        await self.connector.stop()

    def status(self) -> dict[str, Any]:
        """Connection state and counters; ``state`` is the health signal."""
        return {
            **self.connector.status(),
            "source": self.source,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
        }

    # -- checks --------------------------------------------------------------------------------
    def _checked(self, mapping: Mapping) -> Mapping:
        """Check each entry against the registry; fill in the channel's unit where none is given."""
        registry = self.registry.snapshot()
        problems: list[str] = []
        items: list[MappingItem] = []
        for it in mapping.items:
            asset = registry.assets.get(it.asset)
            if asset is None or not self.principal.may_see(asset.customer_id):
                problems.append(f"{it.label}: unknown asset {it.asset!r}")
                continue
            atype = registry.types.get(asset.type_id)
            channel = atype.channel(it.channel) if atype else None
            if channel is None:
                known = ", ".join(atype.channel_names) if atype else "none"
                problems.append(
                    f"{it.label}: asset type {asset.type_id!r} has no channel {it.channel!r} "
                    f"(it has: {known})"
                )
                continue
            if it.unit is not None and channel.unit and not same_unit(it.unit, channel.unit):
                problems.append(
                    f"{it.label}: unit {it.unit!r} does not match the channel's unit {channel.unit!r}"
                )
                continue
            unit = it.unit if it.unit is not None else (channel.unit or None)
            items.append(MappingItem(it.index, it.asset, it.channel, it.node, it.browse_path, unit))
        if problems:
            raise ValidationFailed(
                f"{mapping.source}: {problems[0]}"
                + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
                hint="fix the mapping entry or add the asset/channel to the registry",
                details=problems,
            )
        return Mapping(
            items=items,
            endpoint=mapping.endpoint,
            security=mapping.security,
            user=mapping.user,
            password=mapping.password,
            source=mapping.source,
        )

    def _resume_points(self) -> dict[int, datetime]:
        """The last stored sample of each mapped channel, so a restart reads the gap from history
        (each channel from its own last sample: a slow channel's gap is as long as its own)."""
        assets = sorted({it.asset for it in self.mapping.items})
        last = self.telemetry.last_reading_times(MANUFACTURER, assets)
        return {
            it.index: last[(it.asset, it.channel)]
            for it in self.mapping.items
            if (it.asset, it.channel) in last
        }

    # -- delivery ------------------------------------------------------------------------------
    async def _deliver(self, batch: ReadingBatch) -> None:
        result = await asyncio.to_thread(
            self.telemetry.ingest_batch, self.principal, batch, self.source
        )
        self.accepted += result.accepted
        self.duplicates += result.duplicates
        self.rejected += len(result.rejected)


class OpcUaWorker(SupervisedWorker):
    """The supervised lifecycle around an ``OpcUaIngest`` (which reconnects by itself)."""

    name = "opcua"

    def __init__(self, ingest: OpcUaIngest):
        super().__init__()
        self.ingest = ingest

    async def run_async(self, stop: asyncio.Event) -> None:
        task = asyncio.create_task(self.ingest.run(), name="prognos-opcua")
        ready = asyncio.create_task(self.ingest.wait_ready(None))
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({ready, task, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if ready.done() and not ready.exception():
                self.ready()
            if task.done():
                task.result()  # raises what stopped it
            await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                task.result()
        finally:
            for t in (ready, stopping):
                t.cancel()
            await self.ingest.stop()
            if not task.done():
                await task

    def details(self) -> dict[str, Any]:
        return self.ingest.status()
