"""Outages: a server restart costs only the outage, a network loss costs nothing; no duplicates."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from opcua_world import PUMPS, Proxy, stored, wait_for

from prognos.devservers import free_port
from prognos.ingest.opcua_mapping import Mapping
from prognos.ingest.opcua_sim import SimServer
from prognos.service.workers.opcua import OpcUaIngest

pytestmark = pytest.mark.integration


def now_us() -> int:
    return int(datetime.now(UTC).timestamp() * 1_000_000)


def spy(worker: OpcUaIngest) -> list:
    """Record every batch the connector hands over (before the store could dedup anything)."""
    batches: list = []
    deliver = worker.connector.on_batch

    async def recording(batch):
        batches.append(batch)
        await deliver(batch)

    worker.connector.on_batch = recording
    return batches


def per_node(batches) -> dict[str, list[tuple[int, float]]]:
    node_of = {(it["asset"], it["channel"]): it["node"] for it in PUMPS}
    out: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for b in batches:
        for a, c, t, v in zip(b.asset_id, b.channel, b.ts.astype("int64"), b.value, strict=True):
            out[node_of[(a, c)]].append((int(t), float(v)))
    return out


async def test_a_server_restart_costs_only_the_outage(tmp_path, seeded):
    # The machine keeps its values' history (in memory, so only what its new process wrote):
    # what it wrote before we resubscribed is read back, so nothing but the outage is missing.
    srv = SimServer(free_port(), tmp_path / "machine", interval=0.05, history=True)
    srv.start()
    try:
        worker = OpcUaIngest(
            seeded,
            Mapping.from_dict({"items": PUMPS}),
            endpoint=srv.endpoint,
            flush_interval=0.1,
            reconnect_max_delay=0.5,
        )
        batches = spy(worker)
        task = asyncio.create_task(worker.run())
        await worker.wait_ready(20)
        await asyncio.sleep(1.0)
        await asyncio.to_thread(srv.stop)
        stopped_at = now_us()  # the old process has written its last sample
        await wait_for(lambda: worker.status()["state"] == "reconnecting", 10)
        await asyncio.to_thread(srv.start)
        await wait_for(lambda: worker.status()["state"] == "connected", 30)
        await asyncio.sleep(1.0)
        await worker.stop()
        await task
    finally:
        srv.stop()

    status = worker.status()
    # at least once: on a starved machine the first session on the new server may fail and be
    # opened again; what this test is about is what arrived, below
    assert status["reconnects"] >= 1 and status["delivery_errors"] == 0
    assert status["backfilled"] > 0  # samples the new server wrote before we resubscribed
    written, delivered = srv.written(), per_node(batches)
    assert set(delivered) == {it["node"] for it in PUMPS}
    for node, got in delivered.items():
        assert len(got) == len(set(got)), f"{node}: the connector delivered a sample twice"
        # everything either server wrote between our first and last sample arrived, in order
        expected = [w for w in written[node] if got[0][0] <= w[0] <= got[-1][0]]
        assert got == expected, f"{node}: {len(set(expected) - set(got))} samples lost"
        ts = [t for t, _ in got]
        gap = max(b - a for a, b in zip(ts, ts[1:], strict=False))
        # the outage is the hole in what the machine wrote: from the old process's last sample to
        # the new one's first (a starved machine may also write late before it stops)
        last_old = max(t for t, _ in written[node] if t <= stopped_at)
        first_new = min(t for t, _ in written[node] if t > stopped_at)
        assert gap <= first_new - last_old, f"{node}: gap {gap} µs beyond the outage"
    rows = sum(len(b) for b in batches)
    assert rows == status["accepted"] == seeded.store.count_readings()
    assert status["duplicates"] == 0  # the store never saw one either


async def test_a_restart_of_prognos_reads_the_gap_from_history(sim_server, seeded):
    mapping = Mapping.from_dict({"items": PUMPS})
    first = OpcUaIngest(seeded, mapping, endpoint=sim_server.endpoint, flush_interval=0.1)
    task = asyncio.create_task(first.run())
    await first.wait_ready(20)
    await asyncio.sleep(1.0)
    await first.stop()
    await task
    await asyncio.sleep(1.0)  # prognos is down; the machine goes on
    second = OpcUaIngest(seeded, mapping, endpoint=sim_server.endpoint, flush_interval=0.1)
    task = asyncio.create_task(second.run())
    await second.wait_ready(20)
    await asyncio.sleep(1.0)
    await second.stop()
    await task

    assert second.status()["backfilled"] >= 4 * 15  # about 1 s at 20 samples/s per node
    assert first.status()["duplicates"] == second.status()["duplicates"] == 0
    written = sim_server.written()
    for it in PUMPS:
        got = stored(seeded, it["asset"], it["channel"])
        assert got == [w for w in written[it["node"]] if got[0][0] <= w[0] <= got[-1][0]]


async def test_a_network_loss_loses_nothing_the_server_held(sim_server, seeded):
    # No history reading here: the session outlives the cut, so the server's monitored-item
    # queues and unacknowledged notifications are what bridge the gap.
    async with Proxy(free_port(), sim_server.port) as proxy:
        endpoint = f"opc.tcp://127.0.0.1:{proxy.port}/prognos/"
        worker = OpcUaIngest(
            seeded,
            Mapping.from_dict({"items": PUMPS}),
            endpoint=endpoint,
            flush_interval=0.1,
            reconnect_max_delay=0.5,
            backfill=0,
        )
        batches = spy(worker)
        task = asyncio.create_task(worker.run())
        await worker.wait_ready(20)
        await asyncio.sleep(1.0)
        proxy.disconnect()
        await wait_for(lambda: worker.status()["state"] == "reconnecting", 10)
        await asyncio.sleep(1.5)  # the machine keeps writing; its server queues the changes
        proxy.reconnect()
        await wait_for(lambda: worker.status()["state"] == "connected", 30)
        await asyncio.sleep(1.0)
        await worker.stop()
        await task

    status = worker.status()
    assert status["reconnects"] >= 1 and status["backfilled"] == 0
    written, delivered = sim_server.written(), per_node(batches)
    for node, got in delivered.items():
        assert len(got) == len(set(got)), f"{node}: the connector delivered a sample twice"
        expected = [w for w in written[node] if got[0][0] <= w[0] <= got[-1][0]]
        assert got == expected, f"{node}: {len(expected) - len(got)} samples lost"
    assert status["accepted"] == seeded.store.count_readings() and status["duplicates"] == 0
