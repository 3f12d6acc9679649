"""The alarm workers inside ``prognos serve``: the minute round (no-data rules, clearing after
the normal period) and the delivery of notifications, each a ``LoopWorker`` under a lease, so
of several servers on one PostgreSQL one does each job.

Both only read and write the store: a webhook receiver that hangs holds up the notifications
worker (for ``PROGNOS_WEBHOOK_TIMEOUT`` at most), never ingest.
"""

from __future__ import annotations

from typing import Any

from prognos.config import Settings
from prognos.service.alarms import AlarmService
from prognos.service.notifications import NotificationService
from prognos.service.workers.base import LoopWorker, Worker
from prognos.store.ports import LocksPort


class AlarmSweepWorker(LoopWorker):
    """Every ``interval`` seconds: ``AlarmService.sweep``."""

    name = "alarms"

    def __init__(
        self, alarms: AlarmService, interval: float = 60.0, *, leases: LocksPort | None = None
    ):
        super().__init__(interval, leases=leases)
        self._alarms = alarms
        self.rounds = 0
        self.raised = 0
        self.cleared = 0

    def tick(self) -> None:
        out = self._alarms.sweep()
        self.rounds += 1
        self.raised += out["raised"]
        self.cleared += out["cleared"]

    def details(self) -> dict[str, Any]:
        return {"rounds": self.rounds, "raised": self.raised, "cleared": self.cleared}


class NotifyWorker(LoopWorker):
    """Every ``interval`` seconds: deliver the notifications that are due."""

    name = "notifications"

    def __init__(
        self,
        notifications: NotificationService,
        interval: float = 2.0,
        *,
        leases: LocksPort | None = None,
    ):
        super().__init__(interval, leases=leases)
        self._notifications = notifications

    def tick(self) -> None:
        while self._notifications.deliver_due() and not self._stop.is_set():
            pass  # a full batch went out: there may be more due

    def details(self) -> dict[str, Any]:
        return self._notifications.status()


def alarm_workers(
    alarms: AlarmService,
    notifications: NotificationService,
    settings: Settings,
    leases: LocksPort,
) -> dict[str, Worker]:
    """The alarm workers the settings ask for (``PROGNOS_ALARM_SWEEP_INTERVAL`` 0: none)."""
    if settings.alarm_sweep_interval <= 0:
        return {}
    return {
        "alarms": AlarmSweepWorker(alarms, settings.alarm_sweep_interval, leases=leases),
        "notifications": NotifyWorker(notifications, settings.notify_interval, leases=leases),
    }
