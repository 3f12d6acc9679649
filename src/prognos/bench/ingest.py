"""Benchmark: ingest. ``prognos bench ingest`` (MQTT) and ``prognos bench ingest --http``.

MQTT: one run starts its own Mosquitto and a publisher process that sends a fleet's stream
(``--assets`` x ``--ticks`` messages of ``--channels`` readings, QoS 1). The same stream is
sent three times: to a bare subscriber built on the worker's own MQTT client (how fast the
broker hands the messages over), to a bare paho-mqtt subscriber (for reference), and to the
platform's MQTT worker (published -> validated -> committed -> acknowledged). All rates run
from the publisher's start signal to the last message received / the last reading committed,
so ``ratio`` is the share of the broker's own rate the platform keeps.

HTTP: wide-JSON batches POSTed to the ASGI app in process; each request is parsed, validated
and committed before the next goes out.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from prognos.bench._stores import throwaway_store
from prognos.bench.mqtt_peers import (
    BareSubscriber,
    PahoSubscriber,
    forget_session,
    timed_stream,
)
from prognos.domain.keys import MANUFACTURER


def _open(db: str, assets: int, channels: int):
    from prognos.bench import fleet
    from prognos.config import Settings
    from prognos.service.platform import open_platform

    platform = open_platform(Settings(db=db, artifacts_dir=Path(tempfile.gettempdir())))
    fleet.setup_fleet(platform, n_assets=assets, n_channels=channels)
    return platform


def _first_tick() -> int:
    """A tick offset per run, so a reused PostgreSQL store sees new readings, not duplicates."""
    return int(time.time()) % 5_000_000


# -- MQTT -------------------------------------------------------------------------------------
def run_mqtt(
    store: str,
    assets: int,
    channels: int,
    ticks: int,
    max_batch: int,
    max_wait_s: float,
    repeat: int = 1,
    publisher: str = "paho",
) -> dict[str, Any]:
    from prognos import devservers
    from prognos.service.workers import mqtt_worker

    n_messages = assets * ticks
    readings = n_messages * channels
    tick = _first_tick()
    t_bare: list[tuple[float, float]] = []
    t_paho: list[tuple[float, float]] = []
    t_platform: list[tuple[float, float]] = []
    with devservers.mosquitto() as broker, throwaway_store(store) as (db, label):
        platform = _open(db, assets, channels)
        try:
            for _ in range(repeat):
                # 1. the broker alone: a bare subscriber, same publisher, same stream; once
                # with the worker's own MQTT client (the reference) and once with paho-mqtt
                for kind, times in ((BareSubscriber, t_bare), (PahoSubscriber, t_paho)):
                    bare = kind(broker.port)
                    try:
                        times.append(
                            timed_stream(
                                broker.port,
                                assets,
                                channels,
                                ticks,
                                tick,
                                lambda b=bare: b.count >= n_messages,
                                publisher,
                            )
                        )
                    finally:
                        bare.close()
                    tick += ticks
                # 2. the platform: the MQTT worker, committing before it acknowledges
                worker = mqtt_worker(
                    platform,
                    broker=broker.url,
                    client_id=f"bench-{uuid.uuid4().hex[:6]}",
                    max_batch=max_batch,
                    max_wait_s=max_wait_s,
                )
                worker.start()
                try:
                    if not worker.wait_subscribed(30):
                        raise RuntimeError("the MQTT worker did not subscribe within 30 s")
                    t_platform.append(
                        timed_stream(
                            broker.port,
                            assets,
                            channels,
                            ticks,
                            tick,
                            lambda h=worker.handler: h.accepted >= readings,
                            publisher,
                        )
                    )
                finally:
                    worker.stop()
                # its persistent session would queue a copy of every later stream
                forget_session(broker.port, worker.client_id)
                tick += ticks
            stored = platform.telemetry.count(MANUFACTURER)
        finally:
            platform.close()
    if stored < readings * repeat:
        raise RuntimeError(f"stored {stored} readings, expected {readings * repeat}")
    platform_rate = readings / statistics.median(t for t, _ in t_platform)
    broker_rate = readings / statistics.median(t for t, _ in t_bare)
    paho_rate = readings / statistics.median(t for t, _ in t_paho)
    return {
        "platform_readings_per_s": round(platform_rate),
        "broker_readings_per_s": round(broker_rate),
        "ratio": round(platform_rate / broker_rate, 3),
        "store": label,
        # the same bare subscriber written with paho-mqtt, and the platform's share of it
        "paho_subscriber_readings_per_s": round(paho_rate),
        "ratio_to_paho": round(platform_rate / paho_rate, 3),
        "messages": n_messages,
        "readings": readings,
        "channels_per_message": channels,
        "runs": repeat,
        "platform_seconds": [round(t, 3) for t, _ in t_platform],
        "broker_seconds": [round(t, 3) for t, _ in t_bare],
        "paho_seconds": [round(t, 3) for t, _ in t_paho],
        # CPU of this process (worker or bare subscriber; the publisher and Mosquitto run
        # elsewhere) per reading: what the platform costs, whatever else shares the machine
        "platform_cpu_us_per_reading": round(
            statistics.median(c for _, c in t_platform) / readings * 1e6, 2
        ),
        "broker_cpu_us_per_reading": round(
            statistics.median(c for _, c in t_bare) / readings * 1e6, 2
        ),
        "max_batch": max_batch,
        "max_wait_ms": max_wait_s * 1000,
        "publisher": publisher,
    }


def run_http(
    store: str, assets: int, channels: int, batches: int, concurrency: int = 1
) -> dict[str, Any]:
    import asyncio

    import httpx

    from prognos.api import create_app
    from prognos.api.app import warm_routes
    from prognos.bench import fleet

    first = _first_tick()
    bodies = []
    for b in range(batches):
        records = []
        for topic, payload in fleet.fleet_messages(assets, channels, 1, first_tick=first + b):
            rec = json.loads(payload)
            rec["asset_id"] = topic.split("/")[2]
            records.append(rec)
        bodies.append(json.dumps(records).encode())
    readings = assets * channels * batches

    async def post_all(app, key: str) -> float:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://bench",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            timeout=600,
        ) as client:
            gate = asyncio.Semaphore(concurrency)

            async def post(body: bytes) -> None:
                async with gate:
                    r = await client.post("/api/v1/telemetry", content=body)
                r.raise_for_status()
                if r.json()["rejected"]:
                    raise RuntimeError(f"rejected: {r.json()['rejected'][:3]}")

            t0 = time.perf_counter()
            await asyncio.gather(*(post(b) for b in bodies))
            return time.perf_counter() - t0

    with throwaway_store(store) as (db, label):
        platform = _open(db, assets, channels)
        try:
            key, _ = platform.keys.create(MANUFACTURER, None, "bench")
            app = create_app(platform=platform)
            # what a server's startup does (ASGITransport runs no lifespan): the first-use
            # building of routes is not ingest, and a server pays it before its first client
            asyncio.run(warm_routes(app))
            cpu0 = time.process_time()
            elapsed = asyncio.run(post_all(app, key))
            cpu = time.process_time() - cpu0
            stored = platform.telemetry.count(MANUFACTURER)
        finally:
            platform.close()
    if stored != readings:
        raise RuntimeError(f"stored {stored} readings, expected {readings}")
    return {
        "http_readings_per_s": round(readings / elapsed),
        "store": label,
        "requests": batches,
        "readings_per_request": assets * channels,
        "request_bytes": len(bodies[0]),
        "readings": readings,
        "concurrency": concurrency,
        "seconds": round(elapsed, 3),
        # CPU the process used: on a machine shared with other work, readings per CPU-second
        # say what one free core would do
        "cpu_seconds": round(cpu, 3),
        "readings_per_cpu_s": round(readings / cpu),
    }
