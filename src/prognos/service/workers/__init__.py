"""Background workers, all of one lifecycle (``base.SupervisedWorker``): start, stop, status,
restart after failure with backoff and jitter.

    mqtt          MQTT subscription -> telemetry (``mqtt_worker``)
    opcua         OPC UA subscriptions -> telemetry (``OpcUaWorker``)
    forecast_refresh  new readings -> new forecasts and health (``RefreshWorker``)
    compaction    nightly telemetry layout on DuckDB (``CompactionWorker``)
    alarms        no-data rules and clearing after the normal period (``AlarmSweepWorker``)
    notifications alarm news to webhooks and e-mail (``NotifyWorker``)

``service.hosting.workers_for(platform)`` builds the ones the settings ask for.
"""

from prognos.service.workers.alarms import AlarmSweepWorker, NotifyWorker, alarm_workers
from prognos.service.workers.base import LoopWorker, Permanent, SupervisedWorker, Worker
from prognos.service.workers.compaction import CompactionWorker
from prognos.service.workers.mqtt import (
    MqttIngest,
    MqttIngestWorker,
    TopicPattern,
    memory_worker,
    mqtt_worker,
)
from prognos.service.workers.opcua import OpcUaIngest, OpcUaWorker
from prognos.service.workers.refresh import RefreshWorker

__all__ = [
    "AlarmSweepWorker",
    "CompactionWorker",
    "LoopWorker",
    "MqttIngest",
    "MqttIngestWorker",
    "NotifyWorker",
    "OpcUaIngest",
    "OpcUaWorker",
    "Permanent",
    "RefreshWorker",
    "SupervisedWorker",
    "TopicPattern",
    "Worker",
    "memory_worker",
    "alarm_workers",
    "mqtt_worker",
]
