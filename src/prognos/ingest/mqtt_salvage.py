"""A batch that keeps failing: find the message that fails it, set that one aside, store the rest.

A step that raises is retried a few times with backoff: a store that is down for a moment comes
back. A batch that still fails is split in halves, each prepared and committed on its own, down
to the single message that fails alone (a payload that breaks a parser, a value the store cannot
write). That message gets its own retries, then goes to the handler's ``dead_letter(message,
reason)`` (prognos: the quarantine, with its raw payload) and is acknowledged: one poison message
no longer stops a subscription for everyone, forever, after every restart.

A message is set aside only when the store answers and the message fails once more then: one
that failed because the store was away is tried again until it is stored, even when the store
comes back between its last failed write and the dead letter.

Nothing is acknowledged that is neither stored nor set aside. While the dead letter cannot be
written either (the store is down, or the handler has none), the message is retried without end
and stays with the broker, as every message did before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from prognos.ingest.mqtt_subscriber import Message

log = logging.getLogger(__name__)

STOPPED = object()  # the worker stopped while a step waited to be tried again
POISON, AWAY, STORED = object(), object(), object()  # what a message that failed alone is
Item = tuple[int, Message, int]  # (connection generation, message, packet id)


@dataclass(frozen=True)
class Failed:
    """A step that failed every attempt, with the last error."""

    error: BaseException

    @property
    def reason(self) -> str:
        return f"{type(self.error).__name__}: {self.error}"[:500]


class Steps(Protocol):
    def prepare(self, messages: list[Message]) -> Any: ...

    def commit(self, prepared: Any) -> None: ...


class Retrier:
    """Run a step up to ``attempts`` times, backing off in between; ``stop`` cuts a wait short."""

    def __init__(
        self, stop: threading.Event, stats: Any, delay_s: tuple[float, float], attempts: int
    ):
        self.stop, self.stats, self.delay_s, self.attempts = stop, stats, delay_s, attempts

    def __call__(self, step: Callable[[Any], Any], arg: Any, n: int, attempts: int | None = None):
        """The step's result, ``Failed`` after the last attempt, or ``STOPPED``."""
        delay, high = self.delay_s
        attempts = self.attempts if attempts is None else attempts
        for k in range(attempts):
            try:
                return step(arg)
            except Exception as e:
                self.stats.handler_errors += 1
                self.stats.last_error = f"{type(e).__name__}: {e}"
                if k + 1 == attempts:
                    log.warning("MQTT: a batch of %d failed (%s)", n, self.stats.last_error)
                    return Failed(e)
                log.exception("MQTT batch of %d failed; retrying in %.1f s", n, delay)
            if self.stop.wait(delay):
                return STOPPED
            delay = min(delay * 2, high)
        return Failed(RuntimeError("no attempt"))  # attempts == 0


class Salvage:
    """Settle a batch that failed whole: store its parts, dead-letter what fails alone."""

    def __init__(
        self,
        steps: Steps,
        dead_letter: Callable[[Message, str], None] | None,
        ack: Callable[[list[Item]], None],
        retry: Retrier,
    ):
        self.steps, self.dead_letter, self.ack, self.retry = steps, dead_letter, ack, retry

    def _both(self, messages: list[Message]) -> None:
        self.steps.commit(self.steps.prepare(messages))

    def settle(self, items: list[Item]) -> bool:
        """Every item stored or dead-lettered, and acknowledged; False if the worker stopped."""
        if len(items) == 1:
            return self._one(items[0])
        mid = len(items) // 2
        for part in (items[:mid], items[mid:]):
            got = self.retry(self._both, [m for _, m, _ in part], len(part), attempts=1)
            if got is STOPPED:
                return False
            if not isinstance(got, Failed):
                self.ack(part)
            elif not self.settle(part):
                return False
        return True

    def _verdict(self, message: Message) -> object:
        """After a message failed alone: ``POISON`` when the store answers (the handler's
        ``store_answers``, where it has one) and the message fails once more; ``AWAY`` when the
        store does not answer (an outage is not the message's fault: it stays with the broker);
        ``STORED`` when the store came back and the message went in after all, or ``STOPPED``.
        Without the check, a store that came back between the last failed write and the dead
        letter had a good message quarantined instead of stored."""
        answers = getattr(self.steps, "store_answers", None)
        if answers is None:
            return POISON
        if not answers():
            return AWAY
        again = self.retry(self._both, [message], 1, attempts=1)
        if again is STOPPED:
            return STOPPED
        return POISON if isinstance(again, Failed) else STORED

    def _one(self, item: Item) -> bool:
        message = item[1]
        stats, stop = self.retry.stats, self.retry.stop
        delay, high = self.retry.delay_s
        while True:
            got = self.retry(self._both, [message], 1)
            if got is STOPPED:
                return False
            verdict = STORED if not isinstance(got, Failed) else None
            if verdict is None and self.dead_letter is not None:
                verdict = self._verdict(message)
            if verdict is STOPPED:
                return False
            if verdict is STORED:
                self.ack([item])
                return True
            if verdict is POISON:
                why = f"failed {self.retry.attempts} times: {got.reason}"
                try:
                    self.dead_letter(message, why)
                except Exception:
                    log.exception("MQTT: the message on %s could not be set aside", message.topic)
                else:
                    stats.dead_letters += 1
                    stats.last_dead_letter = why
                    log.error("MQTT: set aside the message on %s: %s", message.topic, why)
                    self.ack([item])
                    return True
            if stop.wait(delay):  # nowhere to put it: it stays with the broker, tried again
                return False
            delay = min(delay * 2, high)
