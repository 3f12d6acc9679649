"""Failed authentications per client address: past a limit in a window, a 429 with Retry-After.

A key has 192 random bits, so guessing one is hopeless, but an unthrottled endpoint still
invites trying (and each try costs a database lookup). Each address may fail ``limit`` times
in ``window`` seconds; after that every attempt from it, right keys included, is refused
until its oldest failure leaves the window. Kept in memory per process (several server
processes each count their own) and bounded: at most ``MAX_ADDRESSES`` addresses are
remembered, the stalest forgotten first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

from prognos.errors import TooManyRequests

MAX_ADDRESSES = 10_000


class AuthThrottle:
    def __init__(self, limit: int, window: float, clock=time.monotonic):
        self.limit = limit
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str, now: float) -> deque[float] | None:
        q = self._failures.get(client)
        if q is None:
            return None
        while q and q[0] <= now - self.window:
            q.popleft()
        if not q:
            del self._failures[client]
            return None
        return q

    def check(self, client: str) -> None:
        """Raise ``TooManyRequests`` when ``client`` used up its failures."""
        now = self._clock()
        with self._lock:
            q = self._recent(client, now)
            if q is None or len(q) < self.limit:
                return
            retry = q[0] + self.window - now
        raise TooManyRequests(
            f"too many failed authentications from {client}",
            hint=f"wait {max(1, round(retry))} s; check the key you send",
            retry_after=retry,
        )

    def failed(self, client: str) -> None:
        now = self._clock()
        with self._lock:
            q = self._recent(client, now) or deque()
            q.append(now)
            self._failures[client] = q
            self._failures.move_to_end(client)
            while len(self._failures) > MAX_ADDRESSES:
                self._failures.popitem(last=False)
