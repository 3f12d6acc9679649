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

Threads: the connection thread (``mqtt_subscriber``) puts what each socket read held on a queue;
a prepare thread takes what arrived in the last few milliseconds (up to ``max_batch`` messages)
and lets the handler parse it while a commit thread stores the batch before (the store works
outside the GIL, so the two overlap), then acknowledges its messages in one write. A step that
raises (store down) is retried a few times with backoff, its messages unacknowledged meanwhile;
a batch that still fails is stored in parts, and a message that fails alone goes to the
handler's ``dead_letter`` and is acknowledged (``mqtt_salvage``). A handler is a callable (one
step) or has ``prepare`` and ``commit`` (see ``BatchHandler``), and may have ``dead_letter``.

MQTT 5 lets the worker tell the broker how many unacknowledged messages it may hold (Receive
Maximum): Mosquitto's default of 20 in flight per client would cap a batch at 20. Several
workers split the load through a shared subscription (``$share/<group>/<filter>``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path
from typing import Any

from prognos.ingest.mqtt_broker import (
    default_client_id,
    parse_broker_url,
    shared_topic,
    tls_context,
)
from prognos.ingest.mqtt_drops import BrokerDrops
from prognos.ingest.mqtt_handler import BatchHandler, Handler, WorkerStats, _Plain
from prognos.ingest.mqtt_salvage import STOPPED, Failed, Item, Retrier, Salvage
from prognos.ingest.mqtt_subscriber import NEVER_EXPIRES, Message, Subscriber

log = logging.getLogger(__name__)

__all__ = ["NEVER_EXPIRES", "BatchHandler", "Message", "MqttWorker", "parse_broker_url"]
# the largest packet the worker takes: twice prognos' default payload limit, so a payload over
# the limit still arrives to be quarantined with its reason; the broker discards larger ones
MAX_PACKET_BYTES = 32 * 1024 * 1024

# What the connection thread hands over: (connection generation, messages, packet ids)
_Chunk = tuple[int, list[Message], list[int]]


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
        ca_file: str | Path | None = None,
        cert_file: str | Path | None = None,
        key_file: str | Path | None = None,
        max_batch: int = 2000,
        max_wait_s: float = 0.02,
        keepalive_s: int = 30,
        reconnect_delay_s: tuple[float, float] = (0.5, 30.0),
        retry_delay_s: tuple[float, float] = (0.5, 30.0),
        attempts: int = 3,
        max_packet_bytes: int = MAX_PACKET_BYTES,
        drain: bool = False,
        drops_topic: str | None = None,
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
        self.drain = drain
        self._queue: queue.Queue[_Chunk] = queue.Queue()
        self._carry: _Chunk | None = None  # the part of a chunk the last batch had no room for
        self._stop = threading.Event()
        self._retry = Retrier(self._stop, self.stats, retry_delay_s, attempts)
        self._salvage = Salvage(
            self._steps, getattr(handler, "dead_letter", None), self._ack_items, self._retry
        )
        self._subscribed = threading.Event()
        self._threads: list[threading.Thread] = []
        # prepared batches wait here for the committer; one waiting is enough to overlap
        self._prepared: queue.Queue[tuple[list[_Chunk], Any] | None] = queue.Queue(maxsize=1)
        self._busy = 0  # batches taken from the queue and not yet done
        self._busy_lock = threading.Lock()
        self._subscriber = Subscriber(
            self.address.host,
            self.address.port,
            self.subscription,
            client_id=self.client_id,
            on_messages=self._on_messages,
            ssl_context=tls_context(ca_file, cert_file, key_file) if self.address.tls else None,
            username=username or self.address.username,
            password=password or self.address.password,
            keepalive_s=keepalive_s,
            session_expiry_s=NEVER_EXPIRES,
            clean_start=False,
            receive_maximum=min(65535, max(2 * self.max_batch, 20)),
            reconnect_delay_s=reconnect_delay_s,
            max_packet_bytes=max_packet_bytes,
            on_connect=self._on_connect,
            on_subscribed=self._on_subscribed,
            on_disconnect=self._on_disconnect,
            drain=drain,
        )
        tls = tls_context(ca_file, cert_file, key_file) if self.address.tls else None
        self.drops = (
            BrokerDrops(
                self.address.host,
                self.address.port,
                drops_topic,
                client_id=f"{self.client_id}-sys"[:64],
                ssl_context=tls,
                username=username or self.address.username,
                password=password or self.address.password,
            )
            if drops_topic and not drain
            else None
        )

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Connect (retrying until the broker answers) and start consuming; returns at once."""
        self._threads = [
            threading.Thread(target=loop, name=f"mqtt-{name}-{self.client_id}", daemon=True)
            for name, loop in (("prepare", self._prepare_loop), ("commit", self._commit_loop))
        ]
        for t in self._threads:
            t.start()
        self._subscriber.start()
        if self.drops is not None:
            self.drops.start()
        log.info(
            "MQTT ingest: %s:%s, subscription %s, client id %s",
            self.address.host,
            self.address.port,
            self.subscription,
            self.client_id,
        )

    def stop(self, timeout: float = 30.0, expire_session: bool = False) -> bool:
        """Finish and acknowledge the batch in hand, then disconnect; the rest stays queued at
        the broker for the next start. ``expire_session`` ends the broker's session too, but
        only when every message received was acknowledged; returns whether it was ended."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._threads = []
        expire = expire_session and self.unacked() == 0
        self._subscriber.stop(max(1.0, deadline - time.monotonic()), expire_session=expire)
        if self.drops is not None:
            self.drops.stop()
        log.info(
            "MQTT ingest stopped: %d messages received, %d acknowledged",
            self.stats.received,
            self.stats.acked,
        )
        return expire

    def unacked(self) -> int:
        """Messages received at QoS 1 and not acknowledged yet (the broker would resend them)."""
        st = self.stats
        return st.received - st.qos0 - st.acked

    @property
    def session_present(self) -> bool | None:
        """Whether the broker had a session for this client id at the last connect."""
        return self._subscriber.session_present

    def wait_subscribed(self, timeout: float | None = None) -> bool:
        """True once the broker has confirmed the subscription (after the first connect)."""
        return self._subscribed.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._subscriber.connected

    def status(self) -> dict[str, Any]:
        """Connection state and counters, for health checks (``/api/v1/status``)."""
        st = self.stats
        sub = self._subscriber
        state = "connected" if self.connected else "refused" if sub.refused else "connecting"
        out: dict[str, Any] = {
            "state": state,
            "broker": f"{self.address.host}:{self.address.port}",
            "subscription": self.subscription,
            "client_id": self.client_id,
            "received": st.received,
            "acked": st.acked,
            "batches": st.batches,
            "connects": st.connects,
            "errors": st.handler_errors,
            "dead_letters": st.dead_letters,
            "last_dead_letter": st.last_dead_letter,
            "keepalive_s": sub.keepalive_in_use,
            "last_error": st.last_error or sub.last_error,
        }
        if self.drops is not None:
            out.update(self.drops.status())
        handler_status = getattr(self.handler, "status", None)
        if callable(handler_status):
            out.update(handler_status())
        return out

    def idle_s(self) -> float:
        """Seconds since the last batch was done; 0 while messages wait or a batch is in hand."""
        if (
            self._busy
            or self._carry is not None
            or not self._queue.empty()
            or not self._prepared.empty()
        ):
            return 0.0
        return time.monotonic() - (self.stats.last_message_at or self.stats.started_at)

    def __enter__(self) -> MqttWorker:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- connection callbacks (connection thread) ---------------------------------------------
    def _on_connect(self, session_present: bool) -> None:
        self.stats.connects += 1
        log.info(
            "MQTT connected (session present: %s); subscribing to %s",
            session_present,
            self.subscription,
        )

    def _on_subscribed(self) -> None:
        log.info("MQTT subscribed to %s", self.subscription)
        self.stats.subscribes += 1
        self._subscribed.set()

    def _on_disconnect(self, why: str) -> None:
        if not self._stop.is_set():
            log.warning("MQTT connection lost (%s); reconnecting", why)

    def _on_messages(self, generation: int, messages: list[Message], packet_ids: list[int]) -> None:
        self.stats.received += len(messages)
        self.stats.qos0 += packet_ids.count(0)
        self._queue.put((generation, messages, packet_ids))

    # -- prepare and commit threads ------------------------------------------------------------
    def _take(self, room: int, timeout: float | None) -> _Chunk | None:
        """The next chunk, cut to ``room`` messages (the rest is carried to the next batch)."""
        if self._carry is not None:
            chunk, self._carry = self._carry, None
        else:
            try:
                chunk = self._queue.get(timeout=timeout) if timeout else self._queue.get_nowait()
            except queue.Empty:
                return None
        gen, msgs, pids = chunk
        if len(msgs) > room:
            self._carry = (gen, msgs[room:], pids[room:])
            chunk = (gen, msgs[:room], pids[:room])
        return chunk

    def _next_batch(self) -> list[_Chunk]:
        first = self._take(self.max_batch, 0.1)
        if first is None:
            return []
        batch = [first]
        n = len(first[1])
        deadline = time.monotonic() + self.max_wait_s
        while n < self.max_batch:
            chunk = self._take(self.max_batch - n, None)
            if chunk is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                chunk = self._take(self.max_batch - n, left)
                if chunk is None:
                    break
            batch.append(chunk)
            n += len(chunk[1])
        return batch

    def _prepare_loop(self) -> None:
        while not self._stop.is_set():
            batch = self._next_batch()
            if not batch:
                continue
            with self._busy_lock:
                self._busy += 1
            messages = [m for _, msgs, _ in batch for m in msgs]
            prepared = self._retry(self._steps.prepare, messages, len(messages))
            if prepared is STOPPED or self._stop.is_set():
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
            n = sum(len(msgs) for _, msgs, _ in batch)
            try:
                done = prepared
                if not isinstance(prepared, Failed):
                    done = self._retry(self._steps.commit, prepared, n)
                if done is STOPPED:
                    return  # stopping: leave the batch unacknowledged for redelivery
                if isinstance(done, Failed):
                    log.warning("MQTT: storing the failed batch of %d in parts", n)
                    items = [
                        (g, m, p)
                        for g, msgs, pids in batch
                        for m, p in zip(msgs, pids, strict=True)
                    ]
                    if not self._salvage.settle(items):
                        return
                else:
                    self.stats.batches += 1
                    self._ack(batch, n)
            finally:
                self.stats.last_message_at = time.monotonic()
                with self._busy_lock:
                    self._busy -= 1

    def _ack(self, batch: list[_Chunk], n_messages: int) -> None:
        """One write per connection generation; QoS 0 messages (packet id 0) need none."""
        n = 0
        by_generation: dict[int, list[int]] = {}
        for gen, _, pids in batch:
            by_generation.setdefault(gen, []).extend(p for p in pids if p)
        for gen, pids in by_generation.items():
            if pids and self._subscriber.ack(gen, pids):
                n += len(pids)
        self.stats.acked += n
        log.debug("acked %d of %d messages (total %d)", n, n_messages, self.stats.acked)

    def _ack_items(self, items: list[Item]) -> None:
        self._ack([(g, [m], [p]) for g, m, p in items], len(items))
