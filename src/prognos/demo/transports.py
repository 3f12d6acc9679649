"""Where a simulator tick's readings go: into the platform (``InProcess``) or to a broker.

``MqttPublisher`` publishes one message per asset and tick to
``prognos/<customer>/<asset>/telemetry`` at QoS 1; its outgoing queue is capped, so a broker
that went away costs the readings of those ticks, never unbounded memory.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from prognos.domain.keys import MANUFACTURER
from prognos.errors import ConfigError
from prognos.service.platform import Platform
from prognos.sim.live import Failure, Samples, to_batch

log = logging.getLogger(__name__)


class Transport(Protocol):
    """Where a tick's readings go; ``send`` returns how many readings were taken."""

    def send(self, samples: list[Samples]) -> int: ...
    def failed(self, f: Failure, new_life: datetime) -> None: ...
    def close(self) -> None: ...


class InProcess:
    """Ingest into the platform through its validation; failures become labelled events."""

    def __init__(self, platform: Platform):
        self.platform = platform

    def send(self, samples: list[Samples]) -> int:
        if not samples:
            return 0
        res = self.platform.telemetry.ingest_batch(
            MANUFACTURER, to_batch(samples), source="simulator"
        )
        if res.rejected:
            log.warning(
                "simulator: %d readings rejected (first: %s)",
                len(res.rejected),
                res.rejected[0].reason,
            )
        return res.accepted + res.duplicates

    def failed(self, f: Failure, new_life: datetime) -> None:
        """The part broke and was replaced after an emergency repair: a repair work order,
        done, whose finding is the labelled failure; the new part's life starts at
        ``new_life``, and planned orders of the failed part are cancelled."""
        if f.asset_id in self.platform.registry.snapshot().assets:
            self.platform.orders.record_repair(MANUFACTURER, f.asset_id, f.at, new_life)

    def replaced(self) -> dict[str, datetime]:
        """Current life start of every asset, as the platform knows it (work orders reset it)."""
        return {a.id: a.installed_at for a in self.platform.registry.snapshot().assets.values()}

    def close(self) -> None:
        pass


class MqttPublisher:
    """Publish wide JSON records, one message per asset and tick, QoS 1.

    With a ``platform`` (the simulator inside ``prognos serve``), failures are recorded there
    and replacements made through work orders are followed, as in process.
    """

    def __init__(
        self,
        url: str,
        *,
        platform: Platform | None = None,
        client_id: str = "",
        username: str | None = None,
        password: str | None = None,
        max_queued: int = 20_000,
        connect_timeout_s: float = 10.0,
    ):
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        u = urlparse(url)
        if u.scheme not in ("mqtt", "tcp") or not u.hostname:
            raise ConfigError(
                f"broker URL {url!r} is not mqtt://HOST:PORT", hint="e.g. mqtt://127.0.0.1:1883"
            )
        self.local = InProcess(platform) if platform is not None else None
        self.dropped = 0
        self._pending: list[Any] = []  # unacknowledged publishes; paho caps them at max_queued
        self._connected = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.max_queued_messages_set(max_queued)  # bounded while the broker is away
        self.client.max_inflight_messages_set(200)
        user = username or (unquote(u.username) if u.username else None)
        if user:
            self.client.username_pw_set(
                user, password or (unquote(u.password) if u.password else None)
            )
        self.client.on_connect = lambda c, ud, flags, rc, props=None: (
            self._connected.set() if not rc.is_failure else None
        )
        self.client.on_disconnect = lambda *a: self._connected.clear()
        self.client.reconnect_delay_set(1, 30)
        try:
            self.client.connect(u.hostname, u.port or 1883, keepalive=30)
        except OSError as e:
            raise ConfigError(
                f"cannot connect to the MQTT broker at {url}: {e}",
                hint="start one (mosquitto) or leave --broker out to ingest in process",
            ) from e
        self.client.loop_start()
        if not self._connected.wait(connect_timeout_s):
            self.close()
            raise ConfigError(f"the MQTT broker at {url} did not accept the connection")

    def send(self, samples: list[Samples]) -> int:
        import paho.mqtt.client as mqtt

        sent = 0
        self._pending = [i for i in self._pending if not _settled(i)]
        for s in samples:
            recs = s.records()
            payload = json.dumps(recs[0] if len(recs) == 1 else recs, separators=(",", ":"))
            info = self.client.publish(
                f"prognos/{s.customer_id}/{s.asset_id}/telemetry", payload, qos=1
            )
            if info.rc == mqtt.MQTT_ERR_SUCCESS or info.rc == mqtt.MQTT_ERR_NO_CONN:
                sent += s.values.size  # queued: paho sends it once (re)connected
                self._pending.append(info)
            else:
                self.dropped += s.values.size
        return sent

    def failed(self, f: Failure, new_life: datetime) -> None:
        log.info("simulator: %s failed at %s; replaced", f.asset_id, f.at.isoformat())
        if self.local is not None:
            self.local.failed(f, new_life)

    def replaced(self) -> dict[str, datetime]:
        return self.local.replaced() if self.local is not None else {}

    def close(self, flush_s: float = 5.0) -> None:
        """Wait (a while) for the broker to acknowledge what was published, then disconnect."""
        deadline = time.monotonic() + flush_s
        for info in self._pending:
            left = deadline - time.monotonic()
            if left <= 0 or not self._connected.is_set():
                break
            try:
                info.wait_for_publish(left)
            except (RuntimeError, ValueError):
                break
        self._pending = []
        self.client.disconnect()
        self.client.loop_stop()


def _settled(info: Any) -> bool:
    """Whether a publish needs no more watching: acknowledged, or refused while the broker was
    away (paho raises on those; it resends what it queued once connected again)."""
    try:
        return info.is_published()
    except (RuntimeError, ValueError):
        return True
