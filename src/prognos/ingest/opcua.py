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

import numpy as np
from asyncua import Client, ua
from asyncua.client.ua_client import UaClientState
from asyncua.common.subscription import DataChangeEvent, StatusChangeEvent

from prognos.domain import ReadingBatch
from prognos.errors import ValidationFailed
from prognos.ingest.opcua_client import (
    NodeInfo,
    ServerUnreachable,
    connect,
    disconnect,
    resolve,
)
from prognos.ingest.opcua_mapping import Mapping

__all__ = ["NodeInfo", "OpcUaConnector", "ServerUnreachable", "connect", "disconnect", "resolve"]

log = logging.getLogger(__name__)

BatchHandler = Callable[[ReadingBatch], Awaitable[None] | None]
NodeCheck = Callable[[list[NodeInfo]], Awaitable[None] | None]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(t: datetime) -> int:
    """Microseconds since the epoch, exactly (a float timestamp loses the last digit)."""
    td = t - _EPOCH
    return (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds


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

        n = len(mapping.items)
        self._assets = np.array([it.asset for it in mapping.items], dtype=object)
        self._channels = np.array([it.channel for it in mapping.items], dtype=object)
        self._last_ts = [-(2**62)] * n  # µs since epoch of the last sample handed over, per item
        for i, t in (resume or {}).items():
            self._last_ts[i] = _micros(t)
        self._backfill_due = bool(resume)
        self._buf_idx: list[int] = []
        self._buf_ts: list[int] = []
        self._buf_val: list[float] = []
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
        self._connected_since: datetime | None = None
        self._last_data_at: datetime | None = None
        self._last_sample_ts: datetime | None = None
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
            "last_data_at": iso(self._last_data_at),
            "last_sample_ts": iso(self._last_sample_ts),
            "pending": len(self._buf_idx),
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
        delay = self.reconnect_min_delay
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
                log.warning("%s; retrying in %.1f s", e, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                delay = min(delay * 2, self.reconnect_max_delay)
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
                log.warning("%s; retrying in %.1f s", self._last_error, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                delay = min(delay * 2, self.reconnect_max_delay)
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

    async def _subscribe(self, client: Client) -> Any:
        ms = self.publishing_interval * 1000.0
        params = ua.CreateSubscriptionParameters()
        params.RequestedPublishingInterval = ms
        # keep the subscription alive on the server through outages of up to ~10 minutes
        params.RequestedMaxKeepAliveCount = client.get_keepalive_count(ms)
        params.RequestedLifetimeCount = max(
            int(600_000 / ms), 3 * params.RequestedMaxKeepAliveCount
        )
        params.MaxNotificationsPerPublish = 0
        params.PublishingEnabled = True
        sub = await client.create_subscription(params, None, queue_maxsize=0)
        flt = ua.DataChangeFilter()
        flt.Trigger = ua.DataChangeTrigger.StatusValueTimestamp
        requests = []
        for handle, info in enumerate(self.nodes):
            rv = ua.ReadValueId()
            rv.NodeId = ua.NodeId.from_string(info.node_id)
            rv.AttributeId = ua.AttributeIds.Value
            mp = ua.MonitoringParameters()
            mp.ClientHandle = handle
            mp.SamplingInterval = 0.0
            mp.QueueSize = self.queue_size
            mp.DiscardOldest = True
            mp.Filter = flt
            req = ua.MonitoredItemCreateRequest()
            req.ItemToMonitor = rv
            req.MonitoringMode = ua.MonitoringMode.Reporting
            req.RequestedParameters = mp
            requests.append(req)
        results = await sub.create_monitored_items(requests)
        bad = [
            f"{info.item.label}: the server refused to monitor it ({r.name})"
            for info, r in zip(self.nodes, results, strict=True)
            if isinstance(r, ua.StatusCode)
        ]
        if bad:
            raise ValidationFailed(
                f"{self.mapping.source}: {bad[0]}", details=bad, hint="fix or remove the entry"
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
        """Buffer one sample unless it is bad, not a number, or not newer than the last one."""
        c = self._counters
        if dv.StatusCode is not None and not dv.StatusCode.is_good():
            c["bad_quality"] += 1
            return False
        v = dv.Value.Value if dv.Value is not None else None
        if not isinstance(v, int | float):
            c["not_numeric"] += 1
            return False
        t = dv.SourceTimestamp or dv.ServerTimestamp or datetime.now(UTC)
        if t.tzinfo is None:
            t = t.replace(tzinfo=UTC)
        ts = _micros(t)
        if ts <= self._last_ts[idx]:
            c["duplicates_dropped"] += 1
            return False
        self._last_ts[idx] = ts
        if len(self._buf_idx) >= self.max_pending:
            c["dropped_overflow"] += 1
            return False
        self._buf_idx.append(idx)
        self._buf_ts.append(ts)
        self._buf_val.append(float(v))
        self._last_data_at = datetime.now(UTC)
        if self._last_sample_ts is None or t > self._last_sample_ts:
            self._last_sample_ts = t
        if len(self._buf_idx) >= self.max_batch:
            self._wake.set()
        return True

    async def _backfill(self) -> None:
        """Read what historizing nodes recorded since their last sample we handed over.

        Covers what no subscription could: values written while no session existed (a server
        restart, a session that expired, this process restarting with ``resume``).
        """
        if not self.backfill or self._client is None:
            return
        now = datetime.now(UTC)
        horizon = _micros(now) - int(self.backfill * 1_000_000)
        for info in self.nodes:
            idx = info.item.index
            if not info.historizing or self._last_ts[idx] < 0:
                continue
            start = _EPOCH + timedelta(microseconds=max(self._last_ts[idx] + 1, horizon))
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
        if not self._buf_idx:
            return
        idx = np.array(self._buf_idx, dtype=np.int64)
        batch = ReadingBatch(
            self._assets[idx],
            self._channels[idx],
            np.array(self._buf_ts, dtype="datetime64[us]"),
            np.array(self._buf_val, dtype=np.float64),
        )
        self._buf_idx, self._buf_ts, self._buf_val = [], [], []
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
