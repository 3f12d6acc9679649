"""MQTT ingest: subscribe, hand batches of messages to a handler, acknowledge after it returns.

The worker never acknowledges a message before its handler has returned (for prognos: after the
readings are committed), so a worker that dies loses nothing: the broker still holds the
unacknowledged messages in the worker's persistent session and delivers them again when a worker
with the same client id comes back. Re-delivered readings must therefore be idempotent; the
telemetry key makes them so.

    worker = MqttWorker("mqtt://127.0.0.1:1883", handle_batch, client_id="ingest-1")
    worker.start()          # returns at once; connects, and reconnects, in the background
    ...
    worker.stop()           # finishes the batch in hand, acknowledges it, disconnects

Threads: paho's network thread puts messages on a queue; a prepare thread takes what arrived
in the last few milliseconds (up to ``max_batch`` messages) and lets the handler parse it while
a commit thread stores the batch before (the store works outside the GIL, so the two overlap),
then acknowledges its messages in the order they came. A step that raises (store down) is
retried with backoff; its messages stay unacknowledged meanwhile. A handler is a callable
(one step) or has ``prepare`` and ``commit`` (see ``BatchHandler``).

MQTT 5 is used so the worker can tell the broker how many unacknowledged messages it may hold
(Receive Maximum): Mosquitto's default of 20 in flight per client would cap a batch at 20.
Several workers split the load through a shared subscription (``$share/<group>/<filter>``).
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from prognos.errors import ValidationFailed

log = logging.getLogger(__name__)

_STOPPED = object()
NEVER_EXPIRES = 0xFFFFFFFF  # MQTT 5 session expiry interval: keep the session until it returns


@dataclass(frozen=True)
class Message:
    """One received message, as the handler sees it."""

    topic: str
    payload: bytes
    dup: bool = False


class BatchHandler(Protocol):
    """A handler in two steps, so one batch is prepared while the one before it commits."""

    def prepare(self, messages: list[Message]) -> Any:
        """Parse and check; no side effects (it may be called again for the same messages)."""

    def commit(self, prepared: Any) -> None:
        """Store; the batch's messages are acknowledged once this returns."""


Handler = Callable[[list[Message]], None] | BatchHandler


class _Plain:
    """A one-step handler (a callable) as a two-step one."""

    def __init__(self, fn: Callable[[list[Message]], None]):
        self.fn = fn

    def prepare(self, messages: list[Message]) -> list[Message]:
        return messages

    def commit(self, prepared: list[Message]) -> None:
        self.fn(prepared)


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None


def parse_broker_url(url: str) -> BrokerAddress:
    """``mqtt://[user:pass@]host[:port]`` (1883) or ``mqtts://...`` (8883, TLS)."""
    u = urlparse(url if "://" in url else f"mqtt://{url}")
    if u.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not u.hostname:
        raise ValidationFailed(
            f"not an MQTT broker URL: {url!r}", hint="write it as mqtt://HOST:PORT"
        )
    tls = u.scheme in ("mqtts", "ssl")
    return BrokerAddress(
        host=u.hostname,
        port=u.port or (8883 if tls else 1883),
        tls=tls,
        username=unquote(u.username) if u.username else None,
        password=unquote(u.password) if u.password else None,
    )


def shared_topic(topic: str, group: str | None) -> str:
    """The subscription filter: ``$share/<group>/<topic>`` when a group is given."""
    return f"$share/{group}/{topic}" if group else topic


def default_client_id(group: str | None) -> str:
    """Stable across restarts (the broker keeps the session under it), distinct per host."""
    return f"prognos-{group or 'ingest'}-{socket.gethostname()}"[:64]


@dataclass
class WorkerStats:
    received: int = 0
    acked: int = 0
    batches: int = 0
    handler_errors: int = 0
    connects: int = 0
    subscribes: int = 0
    last_error: str | None = None
    started_at: float = field(default_factory=time.monotonic)
    last_message_at: float | None = None


class MqttWorker:
    """A subscription whose messages reach ``handler`` in batches and are acked after it returns."""

    def __init__(
        self,
        broker: str,
        handler: Handler,
        *,
        topic: str = "prognos/+/+/telemetry",
        group: str | None = "prognos-ingest",
        client_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
        max_batch: int = 2000,
        max_wait_s: float = 0.02,
        keepalive_s: int = 30,
        reconnect_delay_s: tuple[float, float] = (0.5, 30.0),
        retry_delay_s: tuple[float, float] = (0.5, 30.0),
    ):
        self.address = parse_broker_url(broker)
        self.handler = handler
        self._steps: BatchHandler = handler if hasattr(handler, "commit") else _Plain(handler)
        self.topic = topic
        self.group = group
        self.subscription = shared_topic(topic, group)
        self.client_id = client_id or default_client_id(group)
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.retry_delay_s = retry_delay_s
        self.stats = WorkerStats()
        self._queue: queue.Queue[tuple[int, mqtt.MQTTMessage]] = queue.Queue()
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        # A message is acked only on the connection it came in on: after a reconnect the broker
        # sends it again with the same packet id, and an ack for that id on the new connection
        # could acknowledge a different message that reused it.
        self._conn_lock = threading.Lock()
        self._generation = 0
        self._connected = False
        self._threads: list[threading.Thread] = []
        # prepared batches wait here for the committer; one waiting is enough to overlap
        self._prepared: queue.Queue[tuple[list, Any] | None] = queue.Queue(maxsize=1)
        self._busy = 0  # batches taken from the queue and not yet done
        self._busy_lock = threading.Lock()

        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        user = username or self.address.username
        if user:
            self._client.username_pw_set(user, password or self.address.password)
        if self.address.tls:
            self._client.tls_set()
        self._client.reconnect_delay_set(*reconnect_delay_s)
        self._keepalive = keepalive_s
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Connect (retrying until the broker answers) and start consuming; returns at once."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = NEVER_EXPIRES
        props.ReceiveMaximum = min(65535, max(2 * self.max_batch, 20))
        self._client.connect_async(
            self.address.host,
            self.address.port,
            keepalive=self._keepalive,
            clean_start=False,
            properties=props,
        )
        self._threads = [
            threading.Thread(target=loop, name=f"mqtt-{name}-{self.client_id}", daemon=True)
            for name, loop in (("prepare", self._prepare_loop), ("commit", self._commit_loop))
        ]
        for t in self._threads:
            t.start()
        self._client.loop_start()
        log.info(
            "MQTT ingest: %s:%s, subscription %s, client id %s",
            self.address.host,
            self.address.port,
            self.subscription,
            self.client_id,
        )

    def stop(self, timeout: float = 30.0) -> None:
        """Finish and acknowledge the batch in hand, then disconnect; the rest stays queued at
        the broker for the next start."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._threads = []
        self._client.disconnect()
        self._client.loop_stop()
        # paho closes its wake-up socket pair only when the client is garbage-collected; the
        # callbacks make the client and this worker a cycle, so close it now.
        reset = getattr(self._client, "_reset_sockets", None)
        if reset is not None:
            reset()
        log.info(
            "MQTT ingest stopped: %d messages received, %d acknowledged",
            self.stats.received,
            self.stats.acked,
        )

    def wait_subscribed(self, timeout: float | None = None) -> bool:
        """True once the broker has confirmed the subscription (after the first connect)."""
        return self._subscribed.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._connected

    def status(self) -> dict[str, Any]:
        """Connection state and counters, for health checks (``/api/v1/status``)."""
        st = self.stats
        out: dict[str, Any] = {
            "state": "connected" if self._connected else "connecting",
            "broker": f"{self.address.host}:{self.address.port}",
            "subscription": self.subscription,
            "client_id": self.client_id,
            "received": st.received,
            "acked": st.acked,
            "batches": st.batches,
            "connects": st.connects,
            "errors": st.handler_errors,
            "last_error": st.last_error,
        }
        handler_status = getattr(self.handler, "status", None)
        if callable(handler_status):
            out.update(handler_status())
        return out

    def idle_s(self) -> float:
        """Seconds since the last batch was done; 0 while messages wait or a batch is in hand."""
        if self._busy or not self._queue.empty() or not self._prepared.empty():
            return 0.0
        return time.monotonic() - (self.stats.last_message_at or self.stats.started_at)

    def __enter__(self) -> MqttWorker:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- paho callbacks (network thread) ------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self.stats.last_error = f"broker refused the connection: {reason_code}"
            log.error("MQTT: %s", self.stats.last_error)
            return
        with self._conn_lock:
            self._connected = True
        self.stats.connects += 1
        log.info(
            "MQTT connected (session present: %s); subscribing to %s",
            flags.session_present,
            self.subscription,
        )
        client.subscribe(self.subscription, qos=1)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        if any(rc.is_failure for rc in reason_codes):
            self.stats.last_error = f"subscription refused: {reason_codes}"
            log.error("MQTT: %s", self.stats.last_error)
            return
        log.info("MQTT subscribed to %s", self.subscription)
        self.stats.subscribes += 1
        self._subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        with self._conn_lock:
            self._connected = False
            self._generation += 1
        if not self._stop.is_set():
            log.warning("MQTT connection lost (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        self.stats.received += 1
        self._queue.put((self._generation, msg))

    # -- committer thread ----------------------------------------------------------------------
    def _next_batch(self) -> list[tuple[int, mqtt.MQTTMessage]]:
        try:
            first = self._queue.get(timeout=0.1)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.max_wait_s
        while len(batch) < self.max_batch:
            try:
                batch.append(self._queue.get_nowait())
                continue
            except queue.Empty:
                pass
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(self._queue.get(timeout=left))
            except queue.Empty:
                break
        return batch

    def _prepare_loop(self) -> None:
        while not self._stop.is_set():
            batch = self._next_batch()
            if not batch:
                continue
            with self._busy_lock:
                self._busy += 1
            messages = [Message(m.topic, m.payload, bool(m.dup)) for _, m in batch]
            prepared = self._retrying(self._steps.prepare, messages, len(batch))
            if self._stop.is_set():
                return  # unacknowledged: the broker delivers the batch again
            while not self._stop.is_set():
                try:
                    self._prepared.put((batch, prepared), timeout=0.1)
                    break
                except queue.Full:
                    continue

    def _commit_loop(self) -> None:
        while not self._stop.is_set():
            try:
                item = self._prepared.get(timeout=0.1)
            except queue.Empty:
                continue
            batch, prepared = item
            try:
                if self._retrying(self._steps.commit, prepared, len(batch)) is _STOPPED:
                    return  # stopping: leave the batch unacknowledged for redelivery
                self.stats.batches += 1
                self._ack(batch)
            finally:
                self.stats.last_message_at = time.monotonic()
                with self._busy_lock:
                    self._busy -= 1

    def _retrying(self, step: Callable[[Any], Any], arg: Any, n: int) -> Any:
        """Run ``step`` until it succeeds (store down: retry with backoff) or the worker stops."""
        delay = self.retry_delay_s[0]
        while True:
            try:
                return step(arg)
            except Exception as e:
                self.stats.handler_errors += 1
                self.stats.last_error = f"{type(e).__name__}: {e}"
                log.exception("MQTT batch of %d failed; retrying in %.1f s", n, delay)
            if self._stop.wait(delay):
                return _STOPPED
            delay = min(delay * 2, self.retry_delay_s[1])

    def _ack(self, batch: list[tuple[int, mqtt.MQTTMessage]]) -> None:
        n = 0
        with self._conn_lock:
            for gen, m in batch:
                if m.qos > 0 and gen == self._generation and self._connected:
                    self._client.ack(m.mid, m.qos)
                    n += 1
        self.stats.acked += n
        log.debug("acked %d of %d messages (total %d)", n, len(batch), self.stats.acked)
