"""A surviving MQTT worker stores what the broker queued for one that is gone.

Workers of a group share one subscription, and each keeps a persistent session at the broker
(its unacknowledged messages survive a restart). A worker that dies, or is retired, leaves its
session behind, and the broker goes on routing 1 in N of all new messages into it: stored by
nobody until a client with that id returns (Mosquitto 2.0, checked). This worker watches the
heartbeats (``heartbeat``); for a worker of its group silent longer than ``after_s`` it takes a
lease on that session (one survivor does it), connects with the dead worker's client id (clean
start off: the session and its queue come back), unsubscribes (no new messages are routed to
it), stores and acknowledges what was queued, and once the session is empty disconnects with
Session Expiry 0, which ends it. The dead worker's row then leaves the status.

Should the dead worker return meanwhile, the broker hands the session back to it (same id):
the drain ends without ending the session, and the returning worker subscribes again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from prognos.ingest.mqtt import MqttWorker
from prognos.service.workers.base import LoopWorker
from prognos.store.ports import LocksPort, WorkersPort

log = logging.getLogger(__name__)

QUIET_S = 1.0  # nothing more came this long after the unsubscribe: the queue is empty
CONNECT_S = 15.0  # a drain that cannot connect in this long is tried again next round


class SessionTakeover(LoopWorker):
    name = "mqtt_takeover"

    def __init__(
        self,
        workers: WorkersPort,
        leases: LocksPort,
        drain_worker: Callable[[str], MqttWorker],
        own: Callable[[], set[str]],
        *,
        group: str | None,
        broker: str,
        after_s: float,
        interval: float = 2.0,
        max_drain_s: float = 900.0,
    ):
        super().__init__(interval)
        self._workers = workers
        self._leases = leases
        self._drain_worker = drain_worker
        self._own = own
        self.group = group
        self.broker = broker
        self.after_s = after_s
        self.max_drain_s = max_drain_s
        self.takeovers = 0
        self.drained_messages = 0
        self.last: dict[str, Any] | None = None

    def details(self) -> dict[str, Any]:
        return {
            "takeovers": self.takeovers,
            "drained_messages": self.drained_messages,
            "last_takeover": self.last,
            "after_s": self.after_s,
        }

    def tick(self) -> None:
        rows = self._workers.list_workers("mqtt")
        live = {r["client_id"] for r in rows if r["age_s"] < self.after_s} | self._own()
        for r in rows:
            cid = r["client_id"]
            if not cid or r["grp"] != self.group or r["body"].get("broker") != self.broker:
                continue
            if cid in live:
                if r["age_s"] >= self.after_s:  # its id lives on in a newer process
                    self._workers.forget_worker(r["id"])
                continue
            lease = self._leases.try_lease(f"mqtt-session:{cid}")
            if lease is None:
                continue  # another survivor drains it
            try:
                self._take_over(r)
            finally:
                lease.release()
            live.add(cid)
            if self._stop.is_set():
                return

    def _take_over(self, row: dict[str, Any]) -> None:
        cid = row["client_id"]
        log.warning(
            "MQTT worker %s (client id %s) silent for %.0f s: taking over its broker session",
            row["id"],
            cid,
            row["age_s"],
        )
        w = self._drain_worker(cid)
        w.start()
        done, t0, unsubscribed_at = False, time.monotonic(), None
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if w.session_present is False:  # the broker kept nothing under this id
                    done = True
                    break
                if w.session_present is None:
                    if now - t0 > CONNECT_S:
                        break
                elif not w.connected:
                    break  # the broker gave the session to someone else (its owner is back)
                elif w.wait_subscribed(0):
                    unsubscribed_at = unsubscribed_at or now
                    quiet = now - max(unsubscribed_at, w.stats.last_message_at or 0.0)
                    if quiet >= QUIET_S and w.idle_s() > 0 and w.unacked() == 0:
                        done = True
                        break
                if now - t0 > self.max_drain_s:
                    break
                time.sleep(0.05)
        finally:
            ended = w.stop(expire_session=done)
        got = w.stats.received
        if not ended:
            log.warning("MQTT session %s not ended (%d messages stored); trying again", cid, got)
            return
        for other in self._workers.list_workers("mqtt"):
            if other["client_id"] == cid:
                self._workers.forget_worker(other["id"])
        self.takeovers += 1
        self.drained_messages += got
        self.last = {
            "client_id": cid,
            "worker": row["id"],
            "messages": got,
            "seconds": round(time.monotonic() - t0, 2),
            "at": datetime.now(UTC).isoformat(),
        }
        log.warning(
            "MQTT session %s taken over: %d queued messages stored, session ended", cid, got
        )
