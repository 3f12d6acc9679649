"""Leader leases: of several processes on one database, one does a job (plan, refresh, compact).

On PostgreSQL a lease is a session-level advisory lock on a connection of its own: it is held as
long as that connection lives, so a process that dies (or loses the database) frees it for
another within the server's connection timeout. The embedded DuckDB store has one process by
construction; its leases only keep two threads of that process from doing the same job.
"""

from __future__ import annotations

import threading
import zlib
from typing import Protocol


class Lease(Protocol):
    name: str

    def held(self) -> bool:
        """Still ours: the lock exists and its connection is alive."""

    def release(self) -> None: ...


def lock_key(name: str) -> int:
    """A stable 63-bit advisory lock key for a lease name."""
    return (zlib.crc32(b"prognos:" + name.encode()) << 16) | (zlib.crc32(name.encode()) & 0xFFFF)


class LocalLease:
    def __init__(self, name: str, lock: threading.Lock):
        self.name = name
        self._lock = lock
        self._held = True

    def held(self) -> bool:
        return self._held

    def release(self) -> None:
        if self._held:
            self._held = False
            self._lock.release()


class LocalLocks:
    """Leases within one process (the DuckDB engine's)."""

    def _local_locks(self) -> dict[str, threading.Lock]:
        if not hasattr(self, "_leases"):
            self._leases: dict[str, threading.Lock] = {}
        return self._leases

    def try_lease(self, name: str) -> Lease | None:
        lock = self._local_locks().setdefault(name, threading.Lock())
        return LocalLease(name, lock) if lock.acquire(blocking=False) else None
