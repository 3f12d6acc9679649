"""One lifecycle for every worker: it starts at once, stops when asked, restarts after a
failure (with backoff) and stays failed on an error no restart can mend."""

from __future__ import annotations

import threading

import pytest

from prognos.backoff import Backoff
from prognos.errors import ConfigError
from prognos.service.hosting import workers_for
from prognos.service.workers import LoopWorker, SupervisedWorker
from support import wait_until


class Flaky(LoopWorker):
    name = "flaky"

    def __init__(self, failures: int):
        super().__init__(0.01, backoff=Backoff(low=0.01, high=0.05))
        self.failures = failures
        self.ticks = 0

    def tick(self) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the store went away")
        self.ticks += 1


class Misconfigured(SupervisedWorker):
    name = "misconfigured"

    def run(self, stop: threading.Event) -> None:
        raise ConfigError("the mapping names no endpoint", hint="set one")


def test_a_worker_that_fails_is_restarted_and_goes_on():
    w = Flaky(failures=3).start()
    try:
        wait_until(lambda: w.ticks >= 3, 10, "ticks after the restarts")
        st = w.status()
        assert st["restarts"] == 3 and st["running"] and "went away" in st["last_error"]
        assert st["state"] == "running"
    finally:
        w.stop()
    assert w.status()["state"] == "stopped" and not w.status()["running"]


def test_backoff_delays_grow_with_jitter_and_reset():
    b = Backoff(low=1.0, high=8.0, jitter=0.5)
    delays = [b.next() for _ in range(6)]
    steps = [1, 2, 4, 8, 8, 8]
    assert all(s / 2 <= d <= s for d, s in zip(delays, steps, strict=True))
    assert len({round(d, 6) for d in delays}) > 1  # not all the same moment
    b.reset()
    assert b.next() <= 1.0


def test_an_error_no_restart_can_mend_leaves_the_worker_failed_and_tells_who_started_it():
    w = Misconfigured().start()
    with pytest.raises(ConfigError, match="no endpoint"):
        w.wait_ready(5)
    wait_until(lambda: not w.running, 5, "the worker to stop")
    st = w.status()
    assert st["state"] == "failed" and st["restarts"] == 0 and "no endpoint" in st["last_error"]


def test_the_server_hosts_the_workers_its_settings_ask_for(platform):
    names = set(workers_for(platform))
    # no broker, no OPC UA mapping: no ingest workers; the alarm round and its news always;
    # the continuous planner unless PROGNOS_PLAN_INTERVAL is 0
    assert names == {
        "forecast_refresh",
        "planner",
        "compaction",
        "heartbeat",
        "telemetry_upkeep",
        "alarms",
        "notifications",
    }
    shape = {"state", "running", "restarts", "last_error", "since"}
    for w in workers_for(platform).values():
        assert shape <= set(w.status())
