"""One lifecycle for every background worker: start, stop, status, restart after failure.

A worker's body is its ``run(stop)``: it works until ``stop`` is set, and raises when something
went wrong. The supervisor around it (``SupervisedWorker``) runs the body on a thread of its
own, restarts it after a failure with backoff and jitter (a store or broker that went away
comes back), and reports one status shape for ``/api/v1/status``::

    {"state": "running" | <the body's own state> | "backing_off" | "failed" | "stopped",
     "running": bool, "restarts": int, "last_error": str | None, "since": ISO time, ...}

A body that raises ``Permanent`` (a bad mapping, a refused login) is not restarted: it stays
``failed`` with the reason, and ``wait_ready`` raises it to whoever started the worker. Async
bodies (``run_async``) run on an event loop of the worker's own thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime
from typing import Any, Protocol

from prognos.backoff import Backoff
from prognos.errors import AccessDenied, ConfigError, ValidationFailed
from prognos.store.ports import Lease, LocksPort

log = logging.getLogger(__name__)

# Errors no restart can mend: they need a person to change a setting or a file.
Permanent = (ConfigError, ValidationFailed, AccessDenied)


class Worker(Protocol):
    """What ``prognos serve`` and the standalone commands host."""

    name: str

    def start(self) -> Worker: ...
    def stop(self, timeout: float = 30.0) -> None: ...
    def status(self) -> dict[str, Any]: ...


class SupervisedWorker:
    """Subclasses define ``run(stop)`` (or ``run_async(stop)``) and may add ``details()``."""

    name = "worker"

    def __init__(self, *, backoff: Backoff | None = None):
        self.backoff = backoff or Backoff(low=1.0, high=60.0)
        self.restarts = 0
        self.last_error: str | None = None
        self._state = "stopped"
        self._since = datetime.now(UTC)
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread: threading.Thread | None = None

    # -- what a body defines -------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set; raise on failure. Default: the async body on its loop."""
        asyncio.run(self._run_async_until(stop))

    async def run_async(self, stop: asyncio.Event) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def details(self) -> dict[str, Any]:
        """The body's own counters and state for the status (``state`` overrides "running")."""
        return {}

    def ready(self) -> None:
        """Called by a body once it works (connected, subscribed): ``wait_ready`` returns."""
        self._ready.set()
        self.backoff.reset()

    # -- the lifecycle -------------------------------------------------------------------------
    def start(self) -> SupervisedWorker:
        """Start the body on its thread; returns at once (``wait_ready`` waits for it)."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self._stop.clear()
        self._failure = None
        self._set_state("starting")
        self._thread = threading.Thread(
            target=self._supervise, name=f"prognos-{self.name}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the body to finish what it holds and return once it has (or ``timeout``)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("%s worker did not stop within %.0f s", self.name, timeout)
        if self._state != "failed":
            self._set_state("stopped")

    def wait_ready(self, timeout: float | None = None) -> bool:
        """True once the body called ``ready``; raises the permanent error it stopped on."""
        step = 0.05
        waited = 0.0
        while timeout is None or waited < timeout:
            if self._ready.wait(step):
                return True
            if self._failure is not None:
                raise self._failure
            waited += step
        return False

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> dict[str, Any]:
        details = self.details()
        state = self._state
        if state == "running" and "state" in details:
            state = details["state"]
        return {
            **details,
            "state": state,
            "running": self.running,
            "restarts": self.restarts,
            "last_error": self.last_error or details.get("last_error"),
            "since": self._since.isoformat(),
        }

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state, self._since = state, datetime.now(UTC)

    def _supervise(self) -> None:
        while not self._stop.is_set():
            self._set_state("running")
            try:
                self.run(self._stop)
                if self._stop.is_set():
                    break
                raise RuntimeError("stopped working by itself")
            except Permanent as e:
                self.last_error = str(e)
                self._failure = e
                self._set_state("failed")
                log.error("%s worker stopped: %s", self.name, e)
                return
            except Exception as e:  # anything else may mend itself: restart after a while
                self.last_error = f"{type(e).__name__}: {e}"
                delay = self.backoff.next()
                self.restarts += 1
                self._set_state("backing_off")
                log.exception("%s worker failed; restarting in %.1f s", self.name, delay)
                if self._stop.wait(delay):
                    break
        self._set_state("stopped")

    async def _run_async_until(self, stop: threading.Event) -> None:
        """Run ``run_async`` with an asyncio stop event mirroring the thread's."""
        done = asyncio.Event()

        async def mirror() -> None:
            while not stop.is_set():
                await asyncio.sleep(0.05)
            done.set()

        watcher = asyncio.create_task(mirror())
        try:
            await self.run_async(done)
        finally:
            watcher.cancel()


class LoopWorker(SupervisedWorker):
    """A body that does one round of work every ``interval`` seconds (``tick``).

    With ``leases``, only the process holding the lease named after the worker ticks: of several
    servers on one PostgreSQL, one plans or compacts; the others stand by and take over when the
    leader's session ends.
    """

    def __init__(self, interval: float, *, leases: LocksPort | None = None, **kw: Any):
        super().__init__(**kw)
        self.interval = interval
        self._leases = leases
        self._lease: Lease | None = None

    def tick(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def run(self, stop: threading.Event) -> None:
        self.ready()
        try:
            while not stop.is_set():
                if self.leading():
                    self.tick()
                self.backoff.reset()
                stop.wait(self.interval)
        finally:
            if self._lease is not None:
                self._lease.release()
                self._lease = None

    def leading(self) -> bool:
        """Whether this process does the work now (always, without leases)."""
        if self._leases is None:
            return True
        if self._lease is not None and not self._lease.held():
            log.warning("%s worker lost its lease; standing by", self.name)
            self._lease = None
        if self._lease is None:
            self._lease = self._leases.try_lease(f"worker:{self.name}")
            if self._lease is not None:
                log.info("%s worker took the lease: this process does the work", self.name)
        return self._lease is not None

    def status(self) -> dict[str, Any]:
        out = super().status()
        if self._leases is not None:
            out["leader"] = self._lease is not None
            if out["state"] == "running" and self._lease is None:
                out["state"] = "standby"
        return out
