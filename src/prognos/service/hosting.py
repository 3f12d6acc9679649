"""Which workers a running process hosts, built from the settings.

``prognos serve`` hosts ``workers_for(platform)``: a heartbeat (every process's workers, in the
store), the forecast refresher (unless ``PROGNOS_REFRESH_INTERVAL`` is 0), the continuous
planner (unless ``PROGNOS_PLAN_INTERVAL`` is 0), telemetry upkeep
(rollups, retention, partitions; ``PROGNOS_UPKEEP_INTERVAL``), the nightly compaction on DuckDB
(``PROGNOS_COMPACT_HOUR``), MQTT ingest with session takeover when ``PROGNOS_MQTT_BROKER`` is set,
OPC UA when ``PROGNOS_OPCUA_MAPPING`` is set, the alarm round and the notification delivery
(unless ``PROGNOS_ALARM_SWEEP_INTERVAL`` is 0). Refresh, planning, upkeep and compaction hold a lease: of
several servers on one PostgreSQL, one does each. ``prognos ingest mqtt`` hosts
``ingest_workers`` and a heartbeat.
"""

from __future__ import annotations

from typing import Any

from prognos.config import Settings
from prognos.service.platform import Platform
from prognos.service.workers import (
    CompactionWorker,
    OpcUaIngest,
    OpcUaWorker,
    RefreshWorker,
    Worker,
    alarm_workers,
    mqtt_worker,
)
from prognos.service.workers.heartbeat import Heartbeat
from prognos.service.workers.planner import PlannerWorker
from prognos.service.workers.takeover import SessionTakeover
from prognos.service.workers.upkeep import UpkeepWorker


def workers_for(platform: Platform) -> dict[str, Worker]:
    """The workers ``platform.settings`` ask for, by name, not started (the heartbeat first,
    so that it stops last and records the others as stopped)."""
    s = platform.settings
    out: dict[str, Worker] = {}
    out["heartbeat"] = Heartbeat(platform.store, out, s.heartbeat_interval)
    if s.refresh_interval > 0:
        out["forecast_refresh"] = RefreshWorker(
            platform.telemetry,
            platform.registry,
            platform.forecasts,
            s.refresh_interval,
            activity=platform.store,
            leases=platform.store,
            scoring=platform.scoring,
        )
    if s.plan_interval > 0:
        out["planner"] = PlannerWorker(
            platform.planning,
            s.plan_interval,
            horizon_days=s.plan_horizon_days,
            time_limit_s=s.plan_time_limit,
            trigger_probability=s.plan_trigger_probability,
            every_hours=s.plan_every_hours,
            leases=platform.store,
        )
    if s.upkeep_interval > 0:
        out["telemetry_upkeep"] = UpkeepWorker(
            platform.store,
            platform.registry,
            retention_days=s.retention_days,
            retention_days_by_type=s.retention_days_by_type,
            rollup_retention_days=s.rollup_retention_days,
            interval=s.upkeep_interval,
            leases=platform.store,
        )
    if s.compact_hour >= 0 and platform.store_kind == "duckdb":
        out["compaction"] = CompactionWorker(
            platform.telemetry, s.compact_hour, leases=platform.store
        )
    out.update(alarm_workers(platform.alarms, platform.notifications, s, platform.store))
    if s.mqtt_broker:
        out.update(ingest_workers(platform, s))
    if s.opcua_mapping:
        out["opcua"] = OpcUaWorker(OpcUaIngest.from_file(platform, s.opcua_mapping))
    return out


def ingest_workers(
    platform: Platform, settings: Settings | None = None, **options: Any
) -> dict[str, Worker]:
    """An MQTT ingest worker (``options`` go to ``mqtt_worker``) and, unless
    ``PROGNOS_MQTT_TAKEOVER_AFTER`` is 0, the takeover of sessions that silent workers of its
    group left behind."""
    s = settings or platform.settings
    worker = mqtt_worker(platform, s, **options)
    out: dict[str, Worker] = {"mqtt": worker}
    if s.mqtt_takeover_after > 0:
        drain_options = {k: v for k, v in options.items() if k in ("max_batch", "max_wait_s")}
        address = worker.mqtt.address
        out["mqtt_takeover"] = SessionTakeover(
            platform.store,
            platform.store,
            lambda cid: (
                mqtt_worker(
                    platform,
                    s,
                    broker=options.get("broker"),
                    client_id=cid,
                    drain=True,
                    **drain_options,
                ).mqtt
            ),
            lambda: {worker.client_id},
            group=worker.mqtt.group,
            broker=f"{address.host}:{address.port}",
            after_s=s.mqtt_takeover_after,
            interval=min(2.0, s.mqtt_takeover_after / 2),
        )
    return out


def with_heartbeat(platform: Platform, workers: dict[str, Worker]) -> dict[str, Worker]:
    """``workers`` with a heartbeat in front (it stops last)."""
    out: dict[str, Worker] = {}
    out["heartbeat"] = Heartbeat(platform.store, out, platform.settings.heartbeat_interval)
    out.update(workers)
    return out
