"""Benchmark: ingest with several worker processes. ``prognos bench ingest --workers N``.

For each n in 1..N: n ``prognos ingest mqtt`` processes in one shared-subscription group on a
throwaway Mosquitto (unlimited queues) and one store, the same stream published by one
publisher process (pre-built QoS 1 packets, ``--publisher raw``, so the publisher is not what
limits), timed from the publisher's start to the last reading committed. ``scaling`` is each
rate over the one-worker rate. ``--kill-one`` instead runs two workers and SIGKILLs one when
a fifth of the stream is stored (mid-stream), never restarting it: the survivor takes its session over
(``service/workers/takeover``); it reports how long after the stream's end the last reading
was stored and how many were stored twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from prognos.bench.mqtt_peers import forget_session, timed_stream
from prognos.domain.keys import MANUFACTURER


def _open(db: str, assets: int, channels: int):
    from prognos.bench import fleet
    from prognos.config import Settings
    from prognos.service.platform import open_platform

    settings = Settings(db=db, artifacts_dir=Path(tempfile.gettempdir()), refresh_interval=0)
    platform = open_platform(settings)
    fleet.setup_fleet(platform, n_assets=assets, n_channels=channels)
    return platform


def _env(db: str, **extra: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROGNOS_")}
    env.update({"PROGNOS_DB": db, "PROGNOS_LOG_LEVEL": "WARNING"})
    env.update({f"PROGNOS_{k.upper()}": str(v) for k, v in extra.items()})
    return env


def _workers(n: int, broker: str, db: str, logs: Path, **extra: Any) -> list[subprocess.Popen]:
    out = []
    for i in range(n):
        with (logs / f"worker-{i}.log").open("ab") as log:
            out.append(
                subprocess.Popen(
                    [sys.executable, "-m", "prognos", "ingest", "mqtt", "--broker", broker],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=_env(db, **extra),
                )
            )
    return out


def _wait_connected(platform, n: int, procs: list[subprocess.Popen], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    pids = {p.pid for p in procs}
    while time.monotonic() < deadline:
        rows = platform.cluster.rows(MANUFACTURER, "mqtt")
        if sum(r["pid"] in pids and r["state"] == "connected" for r in rows) == n:
            return
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("an ingest worker exited; see its log")
        time.sleep(0.2)
    raise RuntimeError(f"{n} ingest workers did not connect within {timeout:.0f} s")


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _cpu_s(procs: list[subprocess.Popen]) -> float:
    import psutil

    total = 0.0
    for p in procs:
        try:
            t = psutil.Process(p.pid).cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _count(platform, every_s: float = 0.2):
    """A stored-readings counter that asks the store at most every ``every_s``."""
    state = {"t": 0.0, "n": 0}

    def n() -> int:
        now = time.monotonic()
        if now - state["t"] >= every_s:
            state["t"], state["n"] = now, platform.telemetry.count(MANUFACTURER)
        return state["n"]

    return n


def run_scale(
    store: str, assets: int, channels: int, ticks: int, workers: int, publisher: str = "raw"
) -> dict[str, Any]:
    from prognos import devservers
    from prognos.bench._stores import throwaway_store

    per_message = channels
    readings = assets * ticks * per_message
    rows = []
    with (
        devservers.mosquitto() as broker,
        throwaway_store(store) as (db, label),
        tempfile.TemporaryDirectory(prefix="prognos-bench-") as logs,
    ):
        platform = _open(db, assets, channels)
        tick = int(time.time()) % 5_000_000  # a reused PostgreSQL store sees new readings
        try:
            for n in range(1, workers + 1):
                procs = _workers(n, broker.url, db, Path(logs), mqtt_takeover_after=0)
                try:
                    _wait_connected(platform, n, procs)
                    before = platform.telemetry.count(MANUFACTURER)
                    count = _count(platform)
                    cpu0 = _cpu_s(procs)
                    elapsed, _ = timed_stream(
                        broker.port,
                        assets,
                        channels,
                        ticks,
                        tick,
                        lambda c=count, b=before: c() - b >= readings,
                        publisher,
                    )
                    cpu = _cpu_s(procs) - cpu0
                finally:
                    beats = platform.cluster.rows(MANUFACTURER)
                    _stop(procs)
                for cid in {r["client_id"] for r in beats if r["client_id"]}:
                    forget_session(broker.port, cid)  # the next round must not share them
                platform.cluster.forget(MANUFACTURER, [r["id"] for r in beats])
                tick += ticks
                rows.append(
                    {
                        "workers": n,
                        "readings_per_s": round(readings / elapsed),
                        "seconds": round(elapsed, 3),
                        "worker_cpu_us_per_reading": round(cpu / readings * 1e6, 2),
                    }
                )
        finally:
            platform.close()
    base = rows[0]["readings_per_s"]
    for r in rows:
        r["scaling"] = round(r["readings_per_s"] / base, 3)
    return {
        "store": label,
        "readings_per_run": readings,
        "messages_per_run": assets * ticks,
        "channels_per_message": channels,
        "publisher": publisher,
        "cpus": os.cpu_count(),
        "runs": rows,
        "scaling_ratio": rows[-1]["scaling"],
    }


def run_kill_one(
    store: str, assets: int, channels: int, ticks: int, publisher: str = "raw"
) -> dict[str, Any]:
    """Two workers, one SIGKILLed mid-stream and never restarted."""
    from prognos import devservers
    from prognos.bench._stores import throwaway_store

    readings = assets * ticks * channels
    with (
        devservers.mosquitto(persistence=True) as broker,
        throwaway_store(store) as (db, label),
        tempfile.TemporaryDirectory(prefix="prognos-bench-") as logs,
    ):
        platform = _open(db, assets, channels)
        extra = {"mqtt_takeover_after": 15, "heartbeat_interval": 2}
        procs = _workers(2, broker.url, db, Path(logs), **extra)
        try:
            _wait_connected(platform, 2, procs)
            count = _count(platform)
            killed = {}

            def done() -> bool:
                n = count()
                if not killed and n >= readings // 5:  # well before the stream ends
                    procs[0].send_signal(signal.SIGKILL)
                    killed["at"] = n
                return False  # the stream's end is the publisher's

            t_stream = _publish_watching(broker.port, assets, channels, ticks, publisher, done)
            t_end = time.monotonic()
            while count() < readings:
                done()
                if time.monotonic() - t_end > 600:
                    break
                time.sleep(0.05)
            after = time.monotonic() - t_end
            stored = platform.telemetry.count(MANUFACTURER)
            distinct = platform.telemetry.count(MANUFACTURER, distinct=True)
        finally:
            _stop(procs)
            platform.close()
    return {
        "store": label,
        "readings": readings,
        "stored": stored,
        "distinct": int(distinct),
        "duplicates": stored - int(distinct),
        "killed_at_stored": killed.get("at"),
        "stream_seconds": round(t_stream, 2),
        "seconds_after_stream_end_to_all_stored": round(after, 2),
        "takeover_after_s": extra["mqtt_takeover_after"],
    }


def _publish_watching(port, assets, channels, ticks, publisher, watch) -> float:
    """Publish the stream from a process of its own; ``watch()`` every 50 ms meanwhile.
    Returns the seconds until the publisher had every PUBACK."""
    pub = subprocess.Popen(
        [sys.executable, "-m", "prognos.bench.mqtt_peers", str(port), str(assets)]
        + [str(channels), str(ticks), "0", publisher],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        if pub.stdout.readline().strip() != "ready":
            raise RuntimeError("the publisher did not start")
        t0 = time.perf_counter()
        pub.stdin.write("go\n")
        pub.stdin.close()
        while pub.poll() is None:
            watch()
            time.sleep(0.05)
        if pub.returncode:
            raise RuntimeError(f"the publisher failed ({pub.returncode})")
        return time.perf_counter() - t0
    finally:
        if pub.poll() is None:
            pub.kill()
            pub.wait()
        pub.stdout.close()
