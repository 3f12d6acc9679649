"""The scaled deployment of deploy/compose.yaml, as processes on this machine: PostgreSQL,
Mosquitto with the shipped configuration and ACL, two `prognos serve`, two `prognos ingest
mqtt`. A stream from per-device logins arrives whole, every server sees every worker, and a
device cannot write another device's topic."""

from __future__ import annotations

import httpx
import pytest
from scale_support import DEPLOY, publish, start, stop, stream

from prognos import devservers
from prognos.bench import fleet
from prognos.config import Settings
from prognos.domain.keys import MANUFACTURER
from prognos.service.platform import open_platform
from support import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ASSETS, TICKS = 50, 20


def test_the_scaled_topology_stores_a_stream_whole(pg_server, tmp_path):
    url = pg_server.create_database("topology")
    p = open_platform(Settings(db=url, artifacts_dir=tmp_path))
    try:
        fleet.setup_fleet(p, n_assets=ASSETS, n_channels=4)
        key = p.keys.create(MANUFACTURER, None, "ops")[0]
        devices = {fleet.asset_id(i): f"pw-{i}" for i in range(ASSETS)}
        users = {"prognos-ingest": "in9est", **devices}
        conf = DEPLOY / "mosquitto"
        with devservers.mosquitto(
            config=conf / "mosquitto.conf", acl=conf / "acl", users=users, persistence=True
        ) as broker:
            common = dict(db=url, heartbeat_interval=0.5, mqtt_takeover_after=5)
            ingest = dict(mqtt_username="prognos-ingest", mqtt_password="in9est", **common)
            ports = [devservers.free_port() for _ in range(2)]
            procs = [
                start(["serve", "--port", str(port)], tmp_path / f"serve{i}.log", **common)
                for i, port in enumerate(ports)
            ] + [
                start(["ingest", "mqtt", "--broker", broker.url], tmp_path / f"in{i}.log", **ingest)
                for i in range(2)
            ]
            try:
                h = {"X-API-Key": key}

                def ingest_workers(port: int) -> list[dict]:
                    try:
                        r = httpx.get(f"http://127.0.0.1:{port}/api/v1/status", headers=h)
                    except httpx.TransportError:
                        return []
                    st = r.json()["workers"] if r.status_code == 200 else {}
                    return [v for k, v in st.items() if k.startswith("mqtt@")]

                for port in ports:  # each server lists both workers, connected
                    wait_until(
                        lambda port=port: (
                            [w["state"] for w in ingest_workers(port)] == ["connected"] * 2
                        ),
                        90,
                        f"two connected ingest workers at :{port}",
                    )
                publish(broker.port, stream(ASSETS, TICKS), logins=devices)
                expected = ASSETS * TICKS * 4
                wait_until(lambda: p.telemetry.count(MANUFACTURER) >= expected, 60, "stream")
                # a device writing another device's topic: the broker's ACL drops it
                wrong = [(f"prognos/cust-01/{fleet.asset_id(1)}/telemetry", b'{"ch00": 1}')]
                publish(broker.port, wrong, user=fleet.asset_id(0), password=devices["unit-00000"])
                for port in ports:
                    health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health").json()
                    assert health["status"] == "ok", health
                    # the servers see the ingest workers through their heartbeats: counts
                    # arrive a beat after the rows, then stay at exactly the stream's size
                    wait_until(
                        lambda port=port: (
                            sum(w["accepted"] for w in ingest_workers(port)) >= expected
                        ),
                        30,
                        f"the ingest workers' counts at :{port}",
                    )
                    workers = ingest_workers(port)
                    assert sum(w["accepted"] for w in workers) == expected
                    assert all(w["broker_drops_seen"] == 0 for w in workers)
            finally:
                stop(procs)
        assert p.telemetry.count(MANUFACTURER) == expected
        total = p.store._rows("SELECT sum(value) FROM telemetry")[0][0]
        assert total == pytest.approx(fleet.expected_sum(ASSETS, 4, TICKS))
    finally:
        p.close()
