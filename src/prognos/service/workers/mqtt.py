"""The MQTT ingest worker: a subscription whose batches go into the platform's telemetry.

The MQTT worker (``prognos.ingest.mqtt``) only moves messages; this module decides what a
message means. The topic ``prognos/<customer>/<asset>/telemetry`` names the asset, and the
customer it names must own that asset: a device of one customer cannot write into another
customer's asset. A message that breaks this is quarantined (and acknowledged, so it does not
come back forever), as are payloads that are not telemetry.

Hosting it (``prognos serve`` on DuckDB, or ``prognos ingest mqtt`` standalone)::

    worker = mqtt_worker(platform)          # settings.mqtt_broker, topic, group, credentials
    worker.start()                          # returns at once; threads consume
    ...
    worker.stop()                           # blocks until the batch in hand is committed
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from prognos.config import Settings
from prognos.domain import Rejection
from prognos.domain.keys import MANUFACTURER
from prognos.errors import ConfigError
from prognos.ingest import records
from prognos.ingest.mqtt import Message, MqttWorker
from prognos.ingest.shape import empty_long
from prognos.ingest.source import MemorySource, Source
from prognos.service.registry import RegistryService
from prognos.service.telemetry import CheckedReadings, TelemetryService
from prognos.service.workers.base import SupervisedWorker

log = logging.getLogger(__name__)

SOURCE = "mqtt"


class TopicPattern:
    """Where customer and asset sit in a topic: the first two ``+`` levels of the filter."""

    def __init__(self, topic_filter: str):
        self.filter = topic_filter
        levels = topic_filter.split("/")
        plus = [i for i, lv in enumerate(levels) if lv == "+"]
        if len(plus) < 2:
            raise ConfigError(
                f"MQTT topic filter {topic_filter!r} has no '+' levels for customer and asset",
                hint="use a filter like prognos/+/+/telemetry (customer, then asset)",
            )
        self.customer_level, self.asset_level = plus[0], plus[1]
        self._levels = levels

    def parse(self, topic: str) -> tuple[str, str] | None:
        """(customer, asset) named by ``topic``, or None when it does not fit the filter."""
        parts = topic.split("/")
        for i, lv in enumerate(self._levels):
            if lv == "#":
                break
            if i >= len(parts) or (lv != "+" and lv != parts[i]):
                return None
        else:
            if len(parts) != len(self._levels):
                return None
        customer, asset = parts[self.customer_level], parts[self.asset_level]
        return (customer, asset) if customer and asset else None


class MqttIngest:
    """The handler an ``MqttWorker`` calls: tenancy from the topic, then one ingest per batch."""

    def __init__(
        self,
        telemetry: TelemetryService,
        registry: RegistryService,
        topic_filter: str,
        max_payload_bytes: int,
    ):
        self.telemetry = telemetry
        self.registry = registry
        self.max_payload_bytes = max_payload_bytes
        self.pattern = TopicPattern(topic_filter)
        self.accepted = 0
        self.duplicates = 0
        self.rejected = 0

    def prepare(self, messages: list[Message]) -> CheckedReadings:
        """Tenancy from the topics, one long table for the batch, validated: all of it while
        the previous batch commits (the store works outside the GIL). A frame per message
        would cost more than the readings in it."""
        registry = self.registry.snapshot()
        owned: list[tuple[str, bytes]] = []
        rejected: list[Rejection] = []
        for m in messages:
            parsed = self.pattern.parse(m.topic)
            if parsed is None:
                rejected.append(
                    Rejection(
                        None,
                        "topic",
                        f"topic {m.topic!r} does not fit {self.pattern.filter!r} "
                        "(expected prognos/<customer>/<asset>/telemetry)",
                        _snippet(m.payload),
                        SOURCE,
                    )
                )
                continue
            customer, asset_id = parsed
            asset = registry.assets.get(asset_id)
            if asset is not None and asset.customer_id != customer:
                rejected.append(
                    Rejection(
                        None,
                        "topic",
                        f"asset {asset_id!r} is not registered to customer {customer!r} "
                        f"named in topic {m.topic!r}",
                        _snippet(m.payload),
                        SOURCE,
                        asset_id,
                    )
                )
                continue
            # An unknown asset goes on: validation rejects it with the registry's own reason.
            owned.append((asset_id, m.payload))
        df, pre = records.from_json_messages(owned, SOURCE, self.max_payload_bytes)
        return self.telemetry.check(MANUFACTURER, df, SOURCE, rejected + pre)

    def commit(self, prepared: CheckedReadings) -> None:
        """Store and quarantine the checked batch; its messages are acknowledged after this."""
        result = self.telemetry.store_checked(prepared)
        self.accepted += result.accepted
        self.duplicates += result.duplicates
        self.rejected += len(result.rejected)
        if result.rejected:
            log.info(
                "MQTT batch: %d readings stored, %d quarantined (first: %s)",
                result.accepted,
                len(result.rejected),
                result.rejected[0].reason,
            )

    def store_answers(self) -> bool:
        return self.telemetry.store_answers()

    def dead_letter(self, message: Message, reason: str) -> None:
        """A message that failed alone (the worker retried it): quarantined with its raw
        payload, once, so the worker can acknowledge it."""
        parsed = self.pattern.parse(message.topic)
        asset_id = parsed[1] if parsed else None
        why = f"message on {message.topic!r} could not be ingested ({reason}); set aside whole"
        rej = Rejection(None, "message", why, _snippet(message.payload, None), SOURCE, asset_id)
        self.telemetry.ingest_long(MANUFACTURER, empty_long(), SOURCE, [rej])
        self.rejected += 1

    def __call__(self, messages: list[Message]) -> None:
        self.commit(self.prepare(messages))

    def status(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
        }


def _snippet(payload: bytes, limit: int | None = 2000) -> str:
    return payload[:limit].decode("utf-8", "replace")


class MqttIngestWorker(SupervisedWorker):
    """The supervised lifecycle around a ``Source``: an ``MqttWorker`` (which reconnects by
    itself) or, in tests and replays, a ``MemorySource``."""

    name = "mqtt"

    def __init__(self, mqtt: Source):
        super().__init__()
        self.mqtt = mqtt

    def run(self, stop) -> None:
        self.mqtt.start()
        try:
            while not stop.wait(0.1):
                if self.mqtt.wait_subscribed(0):
                    self.ready()
        finally:
            self.mqtt.stop()

    def details(self) -> dict[str, Any]:
        return self.mqtt.status()

    def wait_subscribed(self, timeout: float | None = None) -> bool:
        """True once the broker has confirmed the subscription (after the first connect)."""
        return self.mqtt.wait_subscribed(timeout)

    def idle_s(self) -> float:
        return self.mqtt.idle_s()

    @property
    def connected(self) -> bool:
        return self.mqtt.connected

    @property
    def client_id(self) -> str:
        return self.mqtt.client_id

    @property
    def stats(self):
        """The connection's counters (``ingest.mqtt.WorkerStats``)."""
        return self.mqtt.stats

    @property
    def handler(self) -> MqttIngest:
        return self.mqtt.handler

    def __enter__(self) -> MqttIngestWorker:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class Hosts(Protocol):
    """What a worker factory needs of the composition root (``service.platform.Platform``)."""

    settings: Settings
    telemetry: TelemetryService
    registry: RegistryService


def mqtt_worker(
    platform: Hosts,
    settings: Settings | None = None,
    *,
    broker: str | None = None,
    client_id: str | None = None,
    drain: bool = False,
    **options: Any,
) -> MqttIngestWorker:
    """An MQTT ingest worker over ``platform``: ``start()`` it, ``stop()`` it.

    Broker, topic filter, group and credentials come from ``settings`` (default: the
    platform's); ``options`` go to ``MqttWorker`` (``max_batch``, ``max_wait_s``, ...).
    ``drain`` makes the worker that empties another's session (``takeover``).
    """
    s = settings or platform.settings
    url = broker or s.mqtt_broker
    if not url:
        raise ConfigError(
            "no MQTT broker configured",
            hint="set PROGNOS_MQTT_BROKER=mqtt://HOST:PORT or pass --broker",
        )
    handler = MqttIngest(platform.telemetry, platform.registry, s.mqtt_topic, s.max_payload_bytes)
    # room for a payload twice the limit, so one over it still arrives to be quarantined
    options.setdefault("max_packet_bytes", min(2 * s.max_payload_bytes + 65_536, 2**32 - 1))
    worker = MqttWorker(
        url,
        handler,
        topic=s.mqtt_topic,
        group=s.mqtt_group or None,
        client_id=client_id or s.mqtt_client_id,
        username=s.mqtt_username,
        password=s.mqtt_password,
        ca_file=s.mqtt_ca_file,
        cert_file=s.mqtt_cert_file,
        key_file=s.mqtt_key_file,
        drain=drain,
        drops_topic=None if drain else (s.mqtt_drops_topic or None),
        **options,
    )
    return MqttIngestWorker(worker)


def memory_worker(platform: Hosts, **options: Any) -> tuple[MqttIngestWorker, MemorySource]:
    """The MQTT ingest use case over an in-memory source: publish to the source, and the
    worker validates, stores, quarantines and acknowledges exactly as over a broker."""
    s = platform.settings
    handler = MqttIngest(platform.telemetry, platform.registry, s.mqtt_topic, s.max_payload_bytes)
    source = MemorySource(handler, **options)
    return MqttIngestWorker(source), source
