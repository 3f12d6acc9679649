"""Where readings come from: a ``Source`` delivers messages in batches to a handler and
acknowledges a batch only once the handler's ``commit`` returned.

    MqttWorker      a broker subscription (``ingest.mqtt``): QoS 1, shared groups, reconnects
    MemorySource    messages published in process: tests and replays, with the same batching,
                    retries, poison-message salvage and acknowledgement rules, and no broker

A handler has ``prepare(messages)`` (parse and check, no side effects), ``commit(prepared)``
(store) and optionally ``dead_letter(message, reason)`` (keep a message that fails alone, so it
can be acknowledged: ``ingest.mqtt_salvage``). The service layer's MQTT ingest use case
(``service.workers.mqtt.MqttIngest``) is such a handler for either source.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from typing import Any, Protocol

from prognos.ingest.mqtt import BatchHandler, WorkerStats
from prognos.ingest.mqtt_salvage import STOPPED, Failed, Item, Retrier, Salvage
from prognos.ingest.mqtt_subscriber import Message


class Source(Protocol):
    def start(self) -> None: ...
    def stop(self, timeout: float = 30.0) -> None: ...
    def wait_subscribed(self, timeout: float | None = None) -> bool: ...
    def status(self) -> dict[str, Any]: ...
    def idle_s(self) -> float: ...


class MemorySource:
    """An in-process stand-in for a broker subscription.

    source = MemorySource(handler)
    source.start()
    source.publish("prognos/acme/pump-1/telemetry", b'{"ts": ..., "values": {...}}')
    source.drain(5)           # every message stored or set aside, and acknowledged
    source.acked              # the messages, in the order they were acknowledged
    """

    client_id = "memory"

    def __init__(
        self,
        handler: BatchHandler,
        *,
        max_batch: int = 2000,
        retry_delay_s: tuple[float, float] = (0.01, 0.05),
        attempts: int = 3,
    ):
        self.handler = handler
        self.max_batch = max_batch
        self.stats = WorkerStats()
        self.acked: list[Message] = []
        self._ids = itertools.count(1)
        self._queue: queue.Queue[Item] = queue.Queue()
        self._busy = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._retry = Retrier(self._stop, self.stats, retry_delay_s, attempts)
        self._salvage = Salvage(
            handler, getattr(handler, "dead_letter", None), self._ack, self._retry
        )

    # -- what a broker would do ----------------------------------------------------------------
    def publish(self, topic: str, payload: bytes) -> int:
        """Queue a message for the handler; returns its packet id."""
        pid = next(self._ids)
        self.stats.received += 1
        self._queue.put((1, Message(topic, payload), pid))
        return pid

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every published message was acknowledged; False after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._queue.empty() and not self._busy:
                    return True
            time.sleep(0.005)
        return False

    # -- the Source protocol --------------------------------------------------------------------
    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, name="prognos-memory-source", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wait_subscribed(self, timeout: float | None = None) -> bool:
        return self._thread is not None

    @property
    def connected(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def idle_s(self) -> float:
        with self._lock:
            if self._busy or not self._queue.empty():
                return 0.0
        return time.monotonic() - (self.stats.last_message_at or self.stats.started_at)

    def status(self) -> dict[str, Any]:
        st = self.stats
        out: dict[str, Any] = {
            "state": "connected" if self.connected else "stopped",
            "client_id": self.client_id,
            "received": st.received,
            "acked": st.acked,
            "batches": st.batches,
            "errors": st.handler_errors,
            "dead_letters": st.dead_letters,
            "last_dead_letter": st.last_dead_letter,
            "last_error": st.last_error,
        }
        handler_status = getattr(self.handler, "status", None)
        if callable(handler_status):
            out.update(handler_status())
        return out

    # -- the batch loop (what MqttWorker's prepare and commit threads do, in one) ----------------
    def _take(self) -> list[Item]:
        try:
            first = self._queue.get(timeout=0.05)
        except queue.Empty:
            return []
        items = [first]
        while len(items) < self.max_batch:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return items

    def _both(self, messages: list[Message]) -> None:
        self.handler.commit(self.handler.prepare(messages))

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                items = self._take()
                self._busy = len(items)
            if not items:
                continue
            try:
                got = self._retry(self._both, [m for _, m, _ in items], len(items))
                if got is STOPPED:  # unacknowledged: delivered again on the next start
                    for it in items:
                        self._queue.put(it)
                    return
                if isinstance(got, Failed):
                    self._salvage.settle(items)
                else:
                    self.stats.batches += 1
                    self._ack(items)
            finally:
                self.stats.last_message_at = time.monotonic()
                with self._lock:
                    self._busy = 0

    def _ack(self, items: list[Item]) -> None:
        self.acked.extend(m for _, m, _ in items)
        self.stats.acked += len(items)
