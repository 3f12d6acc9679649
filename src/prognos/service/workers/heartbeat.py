"""Every process writes its workers' status to the store every few seconds.

A deployment of several processes (``prognos serve`` twice, ``prognos ingest mqtt`` on other
hosts) has no one place where a person could see them all; the ``workers`` table is that place.
Each row is one worker of one process (``host:pid:name``): its kind, MQTT client id and group,
when it started, its last heartbeat (the database's clock) and its status. ``GET
/api/v1/status`` of any server lists them, ``/metrics`` exports them, and a survivor takes over
the broker session of an MQTT worker whose heartbeat went silent (``takeover``).

    beat = Heartbeat(platform.store, workers)   # workers: name -> Worker of this process
    beat.start()                                 # first, so that it stops last
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime
from typing import Any

from prognos.service.workers.base import LoopWorker, Worker
from prognos.store.ports import WorkersPort

log = logging.getLogger(__name__)

FORGET_AFTER_S = 3600.0  # rows of processes gone this long leave the status (sessions stay)


def process_id() -> str:
    """``host:pid``, the prefix of this process's worker rows."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Heartbeat(LoopWorker):
    name = "heartbeat"

    def __init__(self, workers: WorkersPort, hosted: dict[str, Worker], interval: float = 2.0):
        super().__init__(interval)
        self._workers = workers
        self.hosted = hosted
        self.process = process_id()
        self.started_at = datetime.now(UTC)
        self.beats = 0
        self.last_beat_error: str | None = None

    def row_id(self, name: str) -> str:
        return f"{self.process}:{name}"

    def rows(self, final: bool = False) -> list[dict[str, Any]]:
        host, pid = self.process.rsplit(":", 1)
        out = []
        for name, w in list(self.hosted.items()):
            if w is self:
                continue
            st = w.status()
            mqtt = getattr(w, "mqtt", None)
            out.append(
                {
                    "id": self.row_id(name),
                    "kind": name,
                    "host": host,
                    "pid": int(pid),
                    "client_id": getattr(mqtt, "client_id", None),
                    "grp": getattr(mqtt, "group", None),
                    "started_at": self.started_at,
                    "state": "stopped" if final else st["state"],
                    "body": st,
                }
            )
        return out

    def tick(self) -> None:
        self._workers.beat(self.rows())
        self.beats += 1
        if self.beats % 300 == 1:  # now and then: rows of processes long gone
            self._workers.forget_workers_older_than(FORGET_AFTER_S)

    def details(self) -> dict[str, Any]:
        return {"beats": self.beats, "process": self.process}

    def stop(self, timeout: float = 30.0) -> None:
        """Stop beating and leave a last row saying the workers stopped (a survivor still takes
        over a stopped MQTT worker's session, once ``PROGNOS_MQTT_TAKEOVER_AFTER`` passed)."""
        super().stop(timeout)
        try:
            self._workers.beat(self.rows(final=True))
        except Exception as e:  # the store went first: the rows go stale instead
            log.warning("last heartbeat not written: %s", e)
