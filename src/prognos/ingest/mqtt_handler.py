"""What an MQTT worker hands its messages to, and the counters it keeps (``mqtt``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from prognos.ingest.mqtt_subscriber import Message


class BatchHandler(Protocol):
    """A handler in two steps, so one batch is prepared while the one before it commits."""

    def prepare(self, messages: list[Message]) -> Any:
        """Parse and check; no side effects (it may be called again for the same messages)."""

    def commit(self, prepared: Any) -> None:
        """Store; the batch's messages are acknowledged once this returns."""

    # optional: ``dead_letter(message, reason)`` keeps a message that fails alone (quarantine)
    # so that it can be acknowledged; without it such a message is retried without end.


Handler = Callable[[list[Message]], None] | BatchHandler


class _Plain:
    """A one-step handler (a callable) as a two-step one."""

    def __init__(self, fn: Callable[[list[Message]], None]):
        self.fn = fn

    def prepare(self, messages: list[Message]) -> list[Message]:
        return messages

    def commit(self, prepared: list[Message]) -> None:
        self.fn(prepared)


@dataclass
class WorkerStats:
    received: int = 0
    acked: int = 0
    batches: int = 0
    handler_errors: int = 0
    dead_letters: int = 0
    last_dead_letter: str | None = None
    connects: int = 0
    subscribes: int = 0
    last_error: str | None = None
    qos0: int = 0  # received at QoS 0: nothing to acknowledge
    started_at: float = field(default_factory=time.monotonic)
    last_message_at: float | None = None
