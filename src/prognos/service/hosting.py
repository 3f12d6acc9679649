"""Which workers a running server hosts, built from the settings.

On the embedded DuckDB default the server is the one process that writes the file, so the
workers the settings ask for run inside it: the forecast refresher always (unless
``PROGNOS_REFRESH_INTERVAL`` is 0), the nightly telemetry compaction on DuckDB
(``PROGNOS_COMPACT_HOUR``), an MQTT ingest worker when ``PROGNOS_MQTT_BROKER`` is set, an OPC UA
worker when ``PROGNOS_OPCUA_MAPPING`` is set.
"""

from __future__ import annotations

from prognos.service.platform import Platform
from prognos.service.workers import (
    CompactionWorker,
    OpcUaIngest,
    OpcUaWorker,
    RefreshWorker,
    Worker,
    mqtt_worker,
)


def workers_for(platform: Platform) -> dict[str, Worker]:
    """The workers ``platform.settings`` ask for, by name, not started."""
    s = platform.settings
    out: dict[str, Worker] = {}
    if s.refresh_interval > 0:
        out["forecast_refresh"] = RefreshWorker(
            platform.telemetry, platform.registry, platform.forecasts, s.refresh_interval
        )
    if s.compact_hour >= 0 and platform.store_kind == "duckdb":
        out["compaction"] = CompactionWorker(
            platform.telemetry, s.compact_hour, leases=platform.store
        )
    if s.mqtt_broker:
        out["mqtt"] = mqtt_worker(platform, s)
    if s.opcua_mapping:
        out["opcua"] = OpcUaWorker(OpcUaIngest.from_file(platform, s.opcua_mapping))
    return out
