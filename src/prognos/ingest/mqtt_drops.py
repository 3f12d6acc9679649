"""Messages the broker threw away, read from the broker itself, said loudly.

A broker may drop a QoS 1 message it already acknowledged to the publisher: Mosquitto keeps at
most ``max_queued_messages`` (1,000 by default) for each client beyond those in flight, and drops
the rest for a client that falls behind or is away. The subscriber never sees such a message, so
nothing on the subscriber's side can count it; only the broker can. Mosquitto counts them in
``$SYS/broker/publish/messages/dropped`` (retained, refreshed every ``sys_interval`` seconds):
this watcher subscribes to it on a connection of its own and turns every increase into an error
in the log, a counter in the status (``broker_drops_seen``) and a degraded health.

The counter is the broker's, for all its clients: a slow dashboard's drops count too. Where the
login may not read ``$SYS`` (an ACL), no value arrives and the status says so.
"""

from __future__ import annotations

import logging
import ssl
import time
from datetime import UTC, datetime
from typing import Any

from prognos.ingest.mqtt_subscriber import Message, Subscriber

log = logging.getLogger(__name__)

DROPPED = "$SYS/broker/publish/messages/dropped"  # Mosquitto's; others name theirs differently
SILENT_AFTER_S = 30.0  # no value by then: $SYS is not readable (ACL) or not published


class BrokerDrops:
    """Follows the broker's dropped-messages counter; ``status()`` for the worker's status."""

    def __init__(
        self,
        host: str,
        port: int,
        topic: str = DROPPED,
        *,
        client_id: str,
        ssl_context: ssl.SSLContext | None = None,
        username: str | None = None,
        password: str | None = None,
    ):
        self.topic = topic
        self.total: int | None = None  # the broker's counter, as last seen
        self.seen = 0  # drops counted since this watcher started
        self.last_drop_at: datetime | None = None
        self._started = time.monotonic()
        self._subscriber = Subscriber(
            host,
            port,
            topic,
            client_id=client_id,
            on_messages=self._on_messages,
            ssl_context=ssl_context,
            username=username,
            password=password,
            clean_start=True,
            session_expiry_s=0,
            receive_maximum=20,
        )

    def start(self) -> None:
        self._subscriber.start()

    def stop(self) -> None:
        self._subscriber.stop(2.0)

    def _on_messages(self, generation: int, messages: list[Message], packet_ids: list[int]) -> None:
        pids = [p for p in packet_ids if p]
        if pids:
            self._subscriber.ack(generation, pids)
        for m in messages:
            try:
                value = int(float(m.payload))
            except ValueError:
                continue
            self.observe(value)

    def observe(self, value: int) -> None:
        """A new reading of the broker's counter (it restarts at 0 with the broker)."""
        before = self.total
        self.total = value
        if before is None:
            if value:
                log.warning(
                    "the MQTT broker has dropped %d messages since it started (before this "
                    "worker watched); see docs/deployment.md on queue limits",
                    value,
                )
            return
        new = value - before if value >= before else value
        if new > 0:
            self.seen += new
            self.last_drop_at = datetime.now(UTC)
            log.error(
                "the MQTT broker dropped %d messages (%d since this worker started): "
                "readings that devices had published are lost. Raise max_queued_messages "
                "and max_queued_bytes in mosquitto.conf, or add workers (docs/deployment.md)",
                new,
                self.seen,
            )

    def status(self) -> dict[str, Any]:
        if self.total is None:
            waited = time.monotonic() - self._started
            watch = (
                f"no value on {self.topic} yet"
                if waited < SILENT_AFTER_S
                else (f"no value on {self.topic}: drops cannot be seen (let this login read it)")
            )
        else:
            watch = "watching"
        return {
            "broker_drop_watch": watch,
            "broker_dropped": self.total,
            "broker_drops_seen": self.seen,
            "last_broker_drop": self.last_drop_at.isoformat() if self.last_drop_at else None,
        }
