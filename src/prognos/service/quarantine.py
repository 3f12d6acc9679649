"""Each customer's quarantine stays bounded: a quota of rows and a retention in days.

Rejected records are kept to be fixed and replayed, but a device that sends garbage all day
must not fill the database, nor push another customer's records out. So every row counts
against one customer (the caller's, or the asset's owner for the manufacturer's keys), and
after a customer's rows grew by a tenth of its quota (or for the first time in a while) its
oldest rows past the quota and those past the retention are dropped. A customer's quarantine
thus holds at most about 110 % of ``PROGNOS_QUARANTINE_MAX_ROWS`` at any moment.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from prognos.config import Settings
from prognos.domain import Rejection
from prognos.errors import PrognosError
from prognos.store.ports import QuarantinePort

log = logging.getLogger(__name__)

RETENTION_EVERY_S = 600.0  # a customer's retention is applied at least this often while it writes


class QuarantineQuotas:
    """When to trim whose quarantine; thread-safe (ingest workers and requests share it)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._grown: dict[str | None, int] = {}
        self._trimmed_at: dict[str | None, float] = {}

    def wrote(
        self,
        port: QuarantinePort,
        rejected: list[Rejection],
        owners: dict[str, str],
        customer_id: str | None,
    ) -> None:
        """Count rows just written and trim the quarantines that are due."""
        if customer_id is not None:
            counts = Counter({customer_id: len(rejected)})
        else:
            counts = Counter(owners.get(r.asset_id or "") for r in rejected)
        keep = self.settings.quarantine_max_rows
        step = max(keep // 10, 1)
        now = time.monotonic()
        due = []
        with self._lock:
            for who, n in counts.items():
                grown = self._grown.get(who, 0) + n
                if grown >= step or now - self._trimmed_at.get(who, -math.inf) > RETENTION_EVERY_S:
                    grown, self._trimmed_at[who] = 0, now
                    due.append(who)
                self._grown[who] = grown
        if not due:
            return
        before = datetime.now(UTC) - timedelta(days=self.settings.quarantine_retention_days)
        for who in due:
            try:
                dropped = port.trim_quarantine(who, keep, before)
            except PrognosError as e:  # the rows are stored; the next write tries the trim again
                log.warning("quarantine of %s not trimmed: %s", who or "(no customer)", e)
                with self._lock:
                    self._trimmed_at.pop(who, None)
                continue
            if dropped:
                log.info("quarantine of %s: %d old rows dropped", who or "(no customer)", dropped)
