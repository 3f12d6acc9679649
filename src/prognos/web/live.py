"""Fan committed readings out to the pages watching them, one bounded queue per connection.

``Platform.on_readings`` calls :meth:`Hub.publish` in whatever thread committed the batch
(an ingest worker, a request's thread pool); each subscriber lives on the server's event loop,
so the hand-over goes through ``loop.call_soon_threadsafe``. A slow page never holds anything
up: when its queue is full the oldest event is dropped (the page refetches the downsampled
series anyway, so only the newest news matters).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from prognos.domain import ReadingBatch

QUEUE_SIZE = 32


@dataclass(eq=False)
class Subscription:
    asset_id: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue


class Hub:
    """Per-asset subscriptions of live pages."""

    def __init__(self, queue_size: int = QUEUE_SIZE):
        self.queue_size = queue_size
        self._subs: list[Subscription] = []
        self._lock = threading.Lock()
        self.closed = False
        self.dropped = 0

    def open(self) -> None:
        self.closed = False

    def close(self) -> None:
        """Wake every subscriber with ``None`` so its stream ends."""
        self.closed = True
        with self._lock:
            subs, self._subs = self._subs, []
        for s in subs:
            s.loop.call_soon_threadsafe(self._offer, s.queue, None)

    def subscribe(self, asset_id: str) -> Subscription:
        s = Subscription(asset_id, asyncio.get_running_loop(), asyncio.Queue(self.queue_size))
        with self._lock:
            self._subs.append(s)
        return s

    def unsubscribe(self, s: Subscription) -> None:
        with self._lock:
            if s in self._subs:
                self._subs.remove(s)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subs)

    def publish(self, batch: ReadingBatch) -> None:
        """Readings listener: tell each watcher of an asset in ``batch`` what arrived."""
        with self._lock:
            subs = list(self._subs)
        if not subs or self.closed:
            return
        wanted = {s.asset_id for s in subs}
        events = {a: summarise(batch, a) for a in wanted if np.any(batch.asset_id == a)}
        for s in subs:
            ev = events.get(s.asset_id)
            if ev is not None:
                try:
                    s.loop.call_soon_threadsafe(self._offer, s.queue, ev)
                except RuntimeError:  # the loop closed under us: the page is gone
                    self.unsubscribe(s)

    def _offer(self, q: asyncio.Queue, ev: Any) -> None:
        while True:
            try:
                q.put_nowait(ev)
                return
            except asyncio.QueueFull:
                q.get_nowait()
                self.dropped += 1


def summarise(batch: ReadingBatch, asset_id: str) -> dict[str, Any]:
    """Count, time span and the newest value per channel of one asset's readings in a batch."""
    m = batch.asset_id == asset_id
    ts = batch.ts[m]
    ch = batch.channel[m]
    val = batch.value[m]
    order = np.argsort(ts, kind="stable")
    latest: dict[str, float] = {}
    for c, v in zip(ch[order], val[order], strict=True):
        latest[str(c)] = float(v)
    return {
        "asset_id": asset_id,
        "count": int(m.sum()),
        "first": pd.Timestamp(ts.min()).tz_localize("UTC").isoformat(),
        "last": pd.Timestamp(ts.max()).tz_localize("UTC").isoformat(),
        "latest": latest,
    }
