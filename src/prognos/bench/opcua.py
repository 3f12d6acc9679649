"""Benchmark: OPC UA ingest from one server with many monitored items changing every 100 ms.

The server is the simulated machine (``prognos.ingest.opcua_sim``) in its own process, so server
and client do not share an event loop. It reports how many values it really wrote: on a slow or
busy machine it cannot keep up with 1,000 values every 100 ms, and the result says so
(``server_ratio``) instead of dividing by a rate that never happened.
"""

from __future__ import annotations


def run(
    items: int = 1000,
    interval: float = 0.1,
    duration: float = 15.0,
    warmup: float = 3.0,
    publishing_interval: float = 0.1,
) -> dict:
    """Subscribe to ``items`` variables of a simulated machine; samples per second and losses."""
    import asyncio

    return asyncio.run(_run(items, interval, duration, warmup, publishing_interval))


async def _run(
    n: int, interval: float, duration: float, warmup: float, publishing_interval: float
) -> dict:
    import asyncio
    import os
    import platform
    import shutil
    import tempfile
    import time
    from pathlib import Path

    import numpy as np

    from prognos.devservers import free_port
    from prognos.ingest.opcua import OpcUaConnector
    from prognos.ingest.opcua_mapping import Mapping
    from prognos.ingest.opcua_sim import SimServer

    folder = Path(tempfile.mkdtemp(prefix="prognos-bench-opcua-"))
    # the server logs every write and lingers after its last one, so every sample can be
    # accounted for: delivered, or lost
    srv = SimServer(free_port(), folder, pumps=0, bench=n, interval=interval, linger=60.0)
    lags: list[np.ndarray] = []
    seen: list[tuple[np.ndarray, np.ndarray]] = []

    def on_batch(batch) -> None:
        now = np.datetime64(time.time_ns() // 1000, "us")
        lags.append((now - batch.ts).astype(np.int64))
        seen.append((batch.channel, batch.ts.astype(np.int64)))

    mapping = Mapping.from_dict(
        {
            "items": [
                {"node": f"ns=2;s=Bench.V{i:04d}", "asset": "bench", "channel": f"v{i:04d}"}
                for i in range(n)
            ]
        },
        env={},
    )
    t_start = time.perf_counter()
    await asyncio.to_thread(srv.start, 120.0)
    server_start_s = time.perf_counter() - t_start
    try:
        conn = OpcUaConnector(
            srv.endpoint, mapping, on_batch, publishing_interval=publishing_interval
        )
        task = asyncio.create_task(conn.run())
        try:
            t0 = time.perf_counter()
            await conn.wait_ready(120)
            subscribe_s = time.perf_counter() - t0
            await asyncio.sleep(warmup)
            s0, w0, c0 = conn.status(), srv.stats(), time.process_time()
            lags.clear()
            t0 = time.perf_counter()
            await asyncio.sleep(duration)
            s1, w1, c1 = conn.status(), srv.stats(), time.process_time()
            elapsed = time.perf_counter() - t0
            lag_window = list(lags)
            srv.stop_writing()  # then wait until the backlog has drained
            last, quiet = -1, 0.0
            while quiet < 2.0 and time.perf_counter() - t0 < elapsed + 60:
                await asyncio.sleep(0.25)
                now_seen = conn.status()["samples_received"]
                quiet = quiet + 0.25 if now_seen == last else 0.0
                last = now_seen
        finally:
            await conn.stop()
            await asyncio.gather(task, return_exceptions=True)
        lost, accounted = _losses(srv.written(), seen)
    finally:
        await asyncio.to_thread(srv.kill)
        shutil.rmtree(folder, ignore_errors=True)

    received = s1["samples_delivered"] - s0["samples_delivered"] + s1["pending"] - s0["pending"]
    written_dt = (w1.get("elapsed_s", 0) - w0.get("elapsed_s", 0)) or elapsed
    writes_per_s = (w1.get("writes", 0) - w0.get("writes", 0)) / written_dt
    target = n / interval
    server_cpu = (w1.get("cpu_s", 0) - w0.get("cpu_s", 0)) / written_dt
    writes = w1.get("writes", 0) - w0.get("writes", 0)
    lag = np.concatenate(lag_window) / 1000.0 if lag_window else np.array([np.nan])
    return {
        "samples_per_s": round(received / elapsed, 1),
        "monitored_items": s1["monitored_items"],
        "target_changes_per_s": round(target, 1),
        "server_writes_per_s": round(writes_per_s, 1),
        "server_ratio": round(writes_per_s / target, 3),
        "delivered_ratio": round((received / elapsed) / writes_per_s, 3) if writes_per_s else None,
        "lag_ms_p50": round(float(np.percentile(lag, 50)), 1),
        "lag_ms_p99": round(float(np.percentile(lag, 99)), 1),
        "client_cpu_s_per_s": round((c1 - c0) / elapsed, 3),
        "client_cpu_us_per_sample": round((c1 - c0) / received * 1e6, 1) if received else None,
        "server_cpu_s_per_s": round(server_cpu, 3),
        # server CPU per value written, notifications included: what one free core could take
        "server_cpu_us_per_write": round(server_cpu * written_dt / writes * 1e6, 1)
        if writes
        else None,
        "server_late_ticks": w1.get("late_ticks", 0) - w0.get("late_ticks", 0),
        # over the whole run: every value written from a node's first delivered sample on,
        # after the server stopped writing and the backlog drained
        "samples_accounted": accounted,
        "samples_lost": lost,
        "duplicates_dropped": s1["duplicates_dropped"],
        "reconnects": s1["reconnects"],
        "duration_s": round(elapsed, 2),
        "server_start_s": round(server_start_s, 2),
        "subscribe_s": round(subscribe_s, 2),
        "publishing_interval_s": publishing_interval,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def _losses(written: dict, seen: list) -> tuple[int, int]:
    """(lost, written) counting, per node, the writes from its first delivered sample on."""
    import numpy as np

    if not seen:
        return 0, 0
    channels = np.concatenate([c for c, _ in seen])
    stamps = np.concatenate([t for _, t in seen])
    got: dict[str, set[int]] = {}
    for ch in np.unique(channels):
        got[str(ch)] = set(stamps[channels == ch].tolist())
    lost = total = 0
    for node, samples in written.items():
        mine = got.get("v" + node.rsplit(".V", 1)[-1], set())
        if not mine:
            continue
        first = min(mine)
        for ts, _ in samples:
            if ts >= first:
                total += 1
                lost += ts not in mine
    return lost, total
