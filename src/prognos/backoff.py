"""Exponential backoff with jitter: how every reconnect and retry in prognos waits.

Without jitter, every worker that lost the same broker or database retries at the same
moments and meets it again all at once; each delay here is drawn from the upper part of the
exponential step, so they spread out and still grow to ``high``::

    backoff = Backoff(low=0.5, high=30.0)
    while not connected():
        stop.wait(backoff.next())       # 0.25-0.5, 0.5-1, 1-2, ... capped at 15-30 s
    backoff.reset()                     # after a success, start small again
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    low: float = 0.5
    high: float = 30.0
    factor: float = 2.0
    jitter: float = 0.5  # a delay is drawn from [step * (1 - jitter), step]
    attempts: int = field(default=0, init=False)
    _rng: random.Random = field(default_factory=random.Random, init=False, repr=False)

    def next(self) -> float:
        """The delay before the next attempt (seconds), and count the attempt."""
        step = min(self.high, self.low * self.factor**self.attempts)
        self.attempts += 1
        return step * (1.0 - self.jitter * self._rng.random())

    def reset(self) -> None:
        self.attempts = 0
