"""OPC UA source: subscribe to a machine's nodes and hand over ``ReadingBatch``es.

One ``OpcUaConnector`` owns one client session. It resolves and checks every mapped node when it
first connects (so a bad mapping fails at start-up, naming its entry), creates one subscription
with a monitored item per node and turns data-change notifications into readings stamped with
the server's source timestamp.

Reconnection is asyncua's supervisor: after a network loss it re-activates the session on a new
channel, transfers the subscription and republishes what was not acknowledged, so samples the
server still holds (the monitored items' queues) arrive late rather than never. After a server
restart the session is gone and the subscription is created again; its initial values repeat the
last samples delivered, which the connector drops by timestamp (per node, a sample not newer
than the last one delivered is a duplicate). Where a node is historizing, the connector also
reads its history from the last sample delivered on, so values the server wrote while no
session existed (its own restart, an expired session, this process restarting with ``resume``)
arrive as well. The monitored items trigger on the timestamp as well as the value, so a machine
that reports the same value twice gives two readings. A connector runs once: ``stop`` is final.

Usage (the service layer passes ``on_batch``)::

    conn = OpcUaConnector(endpoint, mapping, on_batch)
    task = asyncio.create_task(conn.run())
    ...
    await conn.stop(); await task
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from asyncua import Client, ua
from asyncua.client.ua_client import UaClientState
from asyncua.common.subscription import DataChangeEvent, StatusChangeEvent

from prognos.backoff import Backoff
from prognos.domain import ReadingBatch
from prognos.ingest.opcua_client import (
    NodeInfo,
    ServerUnreachable,
    connect,
    disconnect,
    resolve,
    subscribe,
)
from prognos.ingest.opcua_mapping import Mapping
from prognos.ingest.opcua_samples import EPOCH, SampleBuffer, micros

__all__ = ["NodeInfo", "OpcUaConnector", "ServerUnreachable", "connect", "disconnect", "resolve"]

log = logging.getLogger(__name__)

BatchHandler = Callable[[ReadingBatch], Awaitable[None] | None]
NodeCheck = Callable[[list[NodeInfo]], Awaitable[None] | None]


# -- the connector -------------------------------------------------------------------------------
class OpcUaConnector:
    """Subscribe to mapped nodes and hand readings to ``on_batch`` in order, each sample once."""

    def __init__(
        self,
        endpoint: str,
        mapping: Mapping,
        on_batch: BatchHandler,
        *,
        check: NodeCheck | None = None,
        publishing_interval: float = 0.1,
        queue_size: int = 100,
        flush_interval: float = 0.25,
        max_batch: int = 50_000,
        max_pending: int = 2_000_000,
        timeout: float = 5.0,
        reconnect_min_delay: float = 0.5,
        reconnect_max_delay: float = 30.0,
        # asyncua probes the server every interval and gives up after as long; at 1 s a busy
        # server (1,000 items every 100 ms) was dropped while healthy
        watchdog_interval: float = 5.0,
        backfill: float = 3600.0,
        resume: dict[int, datetime] | None = None,
    ):
        self.endpoint = endpoint
        self.mapping = mapping
        self.on_batch = on_batch
        self.check = check
        self.publishing_interval = publishing_interval
        self.queue_size = queue_size
        self.flush_interval = flush_interval
        self.max_batch = max_batch
        self.max_pending = max_pending
        self.timeout = timeout
        self.reconnect_min_delay = reconnect_min_delay
        self.reconnect_max_delay = reconnect_max_delay
        self.watchdog_interval = watchdog_interval
        self.backfill = backfill  # seconds of server history read after a gap; 0: never

        self._backfill_due = bool(resume)
        self._client: Client | None = None
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()  # flush now: the buffer is full or we are stopping
        self._finished = asyncio.Event()
        self._running = False
        self._ready = asyncio.Event()
        self._failure: BaseException | None = None
        self._state = "idle"
        self._counters = dict.fromkeys(
            (
                "samples_received",
                "samples_delivered",
                "duplicates_dropped",
                "bad_quality",
                "not_numeric",
                "dropped_overflow",
                "dropped_at_stop",
                "batches_delivered",
                "delivery_errors",
                "reconnects",
                "backfilled",
                "backfill_errors",
            ),
            0,
        )
        self._samples = SampleBuffer(
            mapping, self._counters, max_batch=max_batch, max_pending=max_pending, resume=resume
        )
        self._connected_since: datetime | None = None
        self._last_error: str | None = None
        self.nodes: list[NodeInfo] = []

    # -- public face ---------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """The connection as a health signal: state, counters and the latest times."""

        def iso(t: datetime | None) -> str | None:
            return t.isoformat() if t else None

        return {
            "endpoint": self.endpoint,
            "state": self._state,
            "monitored_items": len(self.nodes),
            "connected_since": iso(self._connected_since),
            "last_data_at": iso(self._samples.last_data_at),
            "last_sample_ts": iso(self._samples.last_sample_ts),
            "pending": len(self._samples),
            "last_error": self._last_error,
            **self._counters,
        }

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Return once subscribed; raise the start-up error (bad mapping, refused login) if any."""
        waiter = asyncio.ensure_future(self._ready.wait())
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            raise ServerUnreachable(
                f"no subscription on {self.endpoint} after {timeout} s ({self._last_error})"
            ) from None
        if self._failure is not None:
            raise self._failure

    async def stop(self, timeout: float = 15.0) -> None:
        """Make ``run`` deliver what it holds and disconnect; returns once it has (or timeout)."""
        self._stop.set()
        self._wake.set()
        if self._running:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._finished.wait(), timeout)

    async def run(self) -> None:
        """Connect (retrying while the server is unreachable), subscribe, deliver until stopped.

        Raises at start-up for errors retrying cannot fix: a bad mapping, a refused login or
        certificate, a security mode the server does not offer.
        """
        self._running = True
        self._finished.clear()
        try:
            await self._run()
        finally:
            self._running = False
            self._finished.set()

    async def _run(self) -> None:
        try:
            sub = await self._start()
        except BaseException as e:
            self._failure = e
            self._state = "failed" if not isinstance(e, asyncio.CancelledError) else "stopped"
            self._last_error = str(e)
            self._ready.set()
            raise
        if sub is None:  # stopped before it could connect
            self._state = "stopped"
            self._ready.set()
            return
        self._ready.set()
        assert self._client is not None
        tasks = [
            asyncio.create_task(self._consume(sub), name="opcua-consume"),
            asyncio.create_task(self._watch_state(self._client), name="opcua-state"),
        ]
        # Not cancelled: a delivery cut short could be committed yet uncounted, or lost.
        flusher = asyncio.create_task(self._flush_loop(), name="opcua-flush")
        try:
            await self._stop.wait()
        finally:
            self._stop.set()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._wake.set()
            await flusher
            await disconnect(self._client)
            self._state = "stopped"
            self._connected_since = None

    # -- internals -----------------------------------------------------------------------------
    async def _start(self) -> Any:
        backoff = Backoff(self.reconnect_min_delay, self.reconnect_max_delay)
        while not self._stop.is_set():
            self._state = "connecting"
            try:
                client = await connect(
                    self.endpoint,
                    self.mapping.security,
                    self.mapping.user,
                    self.mapping.password,
                    timeout=self.timeout,
                    auto_reconnect=True,
                    reconnect_max_delay=self.reconnect_max_delay,
                    watchdog_interval=self.watchdog_interval,
                )
            except ServerUnreachable as e:
                self._last_error = str(e)
                await self._pause(backoff.next())
                continue
            try:
                self.nodes = await resolve(client, self.mapping)
                if self.check is not None:
                    res = self.check(self.nodes)
                    if asyncio.iscoroutine(res):
                        await res
                sub = await self._subscribe(client)
            except (OSError, TimeoutError, ua.UaError) as e:  # lost while setting up: again
                await disconnect(client)
                self._last_error = f"setting up the subscription failed: {e!r}"
                await self._pause(backoff.next())
                continue
            except BaseException:
                await disconnect(client)
                raise
            self._client = client
            self._state = "connected"
            self._connected_since = datetime.now(UTC)
            self._last_error = None
            return sub
        return None

    async def _pause(self, delay: float) -> None:
        """Wait ``delay`` seconds before the next attempt, or until stopped."""
        log.warning("%s; retrying in %.1f s", self._last_error, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), delay)

    async def _subscribe(self, client: Client) -> Any:
        sub = await subscribe(
            client, self.nodes, self.mapping.source, self.publishing_interval, self.queue_size
        )
        self._handle_item = [info.item.index for info in self.nodes]
        return sub

    async def _consume(self, sub: Any) -> None:
        handle_item = self._handle_item
        c = self._counters
        async for ev in sub:
            if self._backfill_due:  # now the subscription delivers again: fill the gap first
                self._backfill_due = False
                await self._backfill()
            if isinstance(ev, StatusChangeEvent):
                log.warning("subscription status on %s: %s", self.endpoint, ev.notification.Status)
                continue
            if not isinstance(ev, DataChangeEvent):
                continue
            c["samples_received"] += 1
            self._accept(
                handle_item[ev.data.monitored_item.ClientHandle], ev.data.monitored_item.Value
            )

    def _accept(self, idx: int, dv: ua.DataValue) -> bool:
        """Buffer one sample (``SampleBuffer.accept``); a full buffer is flushed now."""
        ok = self._samples.accept(idx, dv)
        if self._samples.full:
            self._wake.set()
        return ok

    async def _backfill(self) -> None:
        """Read what historizing nodes recorded since their last sample we handed over.

        Covers what no subscription could: values written while no session existed (a server
        restart, a session that expired, this process restarting with ``resume``).
        """
        if not self.backfill or self._client is None:
            return
        now = datetime.now(UTC)
        horizon = micros(now) - int(self.backfill * 1_000_000)
        for info in self.nodes:
            idx = info.item.index
            last = self._samples.last_ts[idx]
            if not info.historizing or last < 0:
                continue
            start = EPOCH + timedelta(microseconds=max(last + 1, horizon))
            try:
                values = await self._client.get_node(info.node_id).read_raw_history(
                    start, now + timedelta(days=1), return_bounds=False
                )
            except Exception as e:
                self._counters["backfill_errors"] += 1
                log.warning("reading the history of %s failed: %s", info.item.label, e)
                continue
            for dv in sorted(values, key=lambda d: d.SourceTimestamp or now):
                if self._accept(idx, dv):
                    self._counters["backfilled"] += 1

    async def _flush_loop(self) -> None:
        """The only place that delivers: every ``flush_interval``, when woken, and once at the end."""
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_interval)
            self._wake.clear()
            await self._flush()
        await self._flush()

    async def _flush(self) -> None:
        batch = self._samples.take()
        if batch is None:
            return
        attempts = 0
        while True:
            try:
                res = self.on_batch(batch)
                if asyncio.iscoroutine(res):
                    await res
            except Exception as e:  # the store is down or busy: keep the batch, try again
                self._counters["delivery_errors"] += 1
                self._last_error = f"delivering readings failed: {e}"
                attempts += 1
                if self._stop.is_set() and attempts >= 3:
                    log.error("giving up on %d OPC UA readings at shutdown: %s", len(batch), e)
                    self._counters["dropped_at_stop"] += len(batch)
                    return
                log.exception("delivering %d OPC UA readings failed; retrying", len(batch))
                await asyncio.sleep(1.0)
                continue
            break
        self._counters["batches_delivered"] += 1
        self._counters["samples_delivered"] += len(batch)

    async def _watch_state(self, client: Client) -> None:
        async with client.subscribe_state() as states:
            while True:
                s = await states.next_change()
                if s is UaClientState.CONNECTED:
                    if self._state != "connected":
                        self._counters["reconnects"] += 1
                        self._backfill_due = True
                        self._connected_since = datetime.now(UTC)
                        log.info("reconnected to %s", self.endpoint)
                    self._state = "connected"
                elif s in (UaClientState.RECONNECTING, UaClientState.DISCONNECTED):
                    if self._state == "connected":
                        log.warning("lost the connection to %s; reconnecting", self.endpoint)
                        self._connected_since = None
                    self._state = "reconnecting"
