"""OPC UA ingestion against a real server process: what it writes is what gets stored."""

from __future__ import annotations

import asyncio
import json

import pytest
import yaml
from opcua_world import PUMPS, stored
from typer.testing import CliRunner

from prognos.cli import app
from prognos.errors import ValidationFailed
from prognos.ingest.opcua_mapping import Mapping
from prognos.service.workers.opcua import OpcUaIngest

pytestmark = pytest.mark.integration


async def test_readings_arrive_with_the_servers_timestamps(sim_server, seeded):
    worker = OpcUaIngest(
        seeded,
        Mapping.from_dict({"items": PUMPS}),
        endpoint=sim_server.endpoint,
        flush_interval=0.1,
    )
    task = asyncio.create_task(worker.run())
    await worker.wait_ready(20)
    await asyncio.sleep(1.5)
    live = worker.status()
    await worker.stop()
    await task

    assert live["state"] == "connected" and live["monitored_items"] == 4
    assert live["last_data_at"] is not None and live["reconnects"] == 0
    written = sim_server.written()
    for it in PUMPS:
        got = stored(seeded, it["asset"], it["channel"])
        assert len(got) >= 10, it
        lo, hi = got[0][0], got[-1][0]
        expected = [w for w in written[it["node"]] if lo <= w[0] <= hi]
        # every sample written while subscribed arrived, once, with its source timestamp and value
        assert got == expected, it
    s = worker.status()
    assert s["state"] == "stopped" and s["rejected"] == 0 and s["duplicates"] == 0
    assert s["accepted"] == s["samples_delivered"] == seeded.store.count_readings()


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        (
            {"node": "ns=2;s=Pump1.Nope", "asset": "acme-p2", "channel": "temp"},
            "the server has no node ns=2;s=Pump1.Nope",
        ),
        (
            {
                "browse_path": "0:Objects/2:Pump9/2:Temperature",
                "asset": "acme-p2",
                "channel": "temp",
            },
            "no node at this browse path",
        ),
        (
            {"node": "ns=2;s=Pump1.Mode", "asset": "acme-p2", "channel": "temp"},
            "data type String is not numeric",
        ),
        ({"node": "ns=2;s=Pump1", "asset": "acme-p2", "channel": "temp"}, "is not a variable"),
        (
            {"node": "ns=2;s=Pump1.Speed", "asset": "acme-p2", "channel": "temp"},
            "EngineeringUnits are 'rpm', the mapping says 'degC'",
        ),
    ],
)
async def test_a_bad_node_stops_the_worker_at_start_up_naming_the_entry(
    sim_server, seeded, entry, words
):
    good = {"node": "ns=2;s=Pump1.Temperature", "asset": "acme-p1", "channel": "temp"}
    worker = OpcUaIngest(
        seeded, Mapping.from_dict({"items": [good, entry]}), endpoint=sim_server.endpoint
    )
    with pytest.raises(ValidationFailed) as e:
        await worker.run()
    assert "items[1] (" in str(e.value) and words in str(e.value)
    assert worker.status()["state"] == "failed"
    assert seeded.store.count_readings() == 0


def test_browse_prints_what_a_mapping_needs(sim_server):
    runner = CliRunner()
    r = runner.invoke(app, ["opcua", "browse", "--endpoint", sim_server.endpoint])
    assert r.exit_code == 0, r.output
    assert "Pump1/" in r.output and "ns=2;s=Pump1.Temperature" in r.output
    assert (
        "0:Objects/2:Pump1/2:Temperature" in r.output and "Double" in r.output and "°C" in r.output
    )

    r = runner.invoke(app, ["opcua", "browse", "--endpoint", sim_server.endpoint, "--yaml"])
    skeleton = yaml.safe_load(r.stdout)
    nodes = {i["node"]: i for i in skeleton["items"]}
    assert nodes["ns=2;s=Pump1.Vibration"]["unit"] == "mm/s"
    assert (
        "ns=2;s=Pump1.Speed" in nodes and "ns=2;s=Pump1.Mode" not in nodes
    )  # strings cannot feed channels


def test_ingest_command_stores_until_its_duration_ends(sim_server, seeded, tmp_path):
    db = seeded.settings.db
    seeded.close()  # the command opens the store itself (DuckDB: one writer)
    mapping = tmp_path / "m.yaml"
    mapping.write_text(yaml.safe_dump({"endpoint": sim_server.endpoint, "items": PUMPS[:2]}))
    args = ["ingest", "opcua", "--mapping", str(mapping), "--db", db]
    r = CliRunner().invoke(app, [*args, "--duration", "1.0"])
    assert r.exit_code == 0, r.output
    status = json.loads(r.stdout[r.stdout.index("{") :])
    assert status["state"] == "stopped" and status["accepted"] >= 10 and status["rejected"] == 0

    r = CliRunner().invoke(app, [*args, "--check"])
    assert r.exit_code == 0 and "subscribed to 2 nodes" in r.stderr


async def test_browse_paths_resolve_to_the_same_nodes(sim_server, seeded):
    entries = [
        {"browse_path": "0:Objects/2:Pump1/2:Temperature", "asset": "acme-p1", "channel": "temp"},
        {
            "browse_path": "0:Objects/2:Pump2/2:Vibration",
            "asset": "acme-p2",
            "channel": "vibration",
        },
    ]
    worker = OpcUaIngest(
        seeded, Mapping.from_dict({"items": entries}), endpoint=sim_server.endpoint
    )
    task = asyncio.create_task(worker.run())
    await worker.wait_ready(20)
    await worker.stop()
    await task
    nodes = [(n.node_id, n.engineering_unit, n.historizing) for n in worker.connector.nodes]
    assert nodes == [
        ("ns=2;s=Pump1.Temperature", "°C", True),
        ("ns=2;s=Pump2.Vibration", "mm/s", True),
    ]
