"""The simulator's transports: MQTT to a real broker (and through the ingest worker), the CLI."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from typer.testing import CliRunner

from prognos.cli import app
from prognos.config import Settings
from prognos.demo.simulator import Simulator
from prognos.domain import Asset, Customer, Site
from prognos.domain.keys import MANUFACTURER
from prognos.ingest import records
from prognos.service.platform import open_platform
from prognos.service.workers import mqtt_worker
from prognos.sim.live import ASSET_TYPES, CHAIN_DRIVE, ELEVATOR, LiveAsset, LiveFleet
from support import wait_until

END = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
ASSETS = [
    LiveAsset("el-1", "lift", ELEVATOR, END - timedelta(days=40), last_ts=END),
    LiveAsset("el-2", "lift", ELEVATOR, END - timedelta(days=90), last_ts=END),
    LiveAsset("ch-1", "plant", CHAIN_DRIVE, END - timedelta(days=10), last_ts=END),
]


class _Subscriber:
    def __init__(self, port: int):
        self.messages: list[tuple[str, bytes, int]] = []
        self._lock = threading.Lock()
        self.ready = threading.Event()
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"sub-{uuid.uuid4().hex[:8]}")
        c.on_connect = lambda c, ud, fl, rc, pr=None: c.subscribe("prognos/+/+/telemetry", qos=1)
        c.on_subscribe = lambda *a: self.ready.set()
        c.on_message = self._on
        c.connect("127.0.0.1", port)
        c.loop_start()
        self.client = c

    def _on(self, c, ud, m) -> None:
        with self._lock:
            self.messages.append((m.topic, m.payload, m.qos))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.mark.integration
def test_mqtt_transport_publishes_wide_records_per_asset(mqtt_broker):
    sub = _Subscriber(mqtt_broker.port)
    assert sub.ready.wait(10)
    stop_at = END + timedelta(hours=6)
    sim = Simulator(
        mqtt_broker.url,
        LiveFleet(ASSETS, 0),
        speed=6 * 3600 / 1.0,
        tick_s=0.05,
        clock=lambda: stop_at,
    )
    sim.start()
    wait_until(lambda: sim.sim_time >= stop_at and sim.backlog_s == 0, 20, "the simulated clock")
    sim.stop()
    st = sim.status()
    assert st["errors"] == 0 and st["readings"] == 6 * 6 * (4 + 4 + 3)  # 10-min samples

    def received() -> int:
        return sum(
            len(records.from_json_bytes(p, "test", t.split("/")[2])[0])
            for t, p, _ in list(sub.messages)
        )

    wait_until(lambda: received() >= st["readings"], 10, "every reading at the subscriber")
    sub.close()
    topics = {t for t, _, _ in sub.messages}
    assert topics == {
        "prognos/lift/el-1/telemetry",
        "prognos/lift/el-2/telemetry",
        "prognos/plant/ch-1/telemetry",
    }
    assert {q for _, _, q in sub.messages} == {1}
    total = 0
    for topic, payload, _ in sub.messages:
        doc = json.loads(payload)
        recs = doc if isinstance(doc, list) else [doc]
        assert all(set(r) == {"ts", "values"} for r in recs)
        df, rejected = records.from_json_bytes(payload, "test", topic.split("/")[2])
        assert rejected == []
        total += len(df)
    assert total == st["readings"]


@pytest.mark.integration
def test_simulated_fleet_through_the_broker_into_the_store(mqtt_broker, tmp_path):
    p = open_platform(Settings(db=str(tmp_path / "x.duckdb"), artifacts_dir=tmp_path / "a"))
    try:
        for t in ASSET_TYPES.values():
            p.registry.add_asset_type(MANUFACTURER, t)
        for cid in ("lift", "plant"):
            p.registry.add_customer(MANUFACTURER, Customer(id=cid, name=cid))
            p.registry.add_site(MANUFACTURER, Site(id=f"{cid}-1", customer_id=cid, name=cid))
        p.registry.add_assets(
            MANUFACTURER,
            [
                Asset(
                    id=a.asset_id,
                    customer_id=a.customer_id,
                    site_id=f"{a.customer_id}-1",
                    type_id=a.type_id,
                    installed_at=a.installed_at,
                )
                for a in ASSETS
            ],
        )
        worker = mqtt_worker(p, broker=mqtt_broker.url, client_id="sim-test")
        worker.start()
        stop_at = END + timedelta(hours=3)
        sim = Simulator(
            mqtt_broker.url,
            LiveFleet(ASSETS, 1),
            speed=3 * 3600.0,
            tick_s=0.05,
            clock=lambda: stop_at,
        )
        time.sleep(0.5)  # the worker subscribes
        sim.start()
        wait_until(
            lambda: sim.sim_time >= stop_at and sim.backlog_s == 0, 20, "the simulated clock"
        )
        sim.stop()
        wait_until(
            lambda: p.store.count_readings() >= sim.readings, 20, "the readings in the store"
        )
        worker.stop()
        assert p.store.count_readings() == sim.readings == 3 * 6 * 11
        assert p.store.list_quarantine(None, 10, 0) == []
    finally:
        p.close()


class _Flaky:
    """A transport that fails once, then works."""

    def __init__(self):
        self.calls = 0
        self.readings = 0

    def send(self, samples):
        self.calls += 1
        if self.calls == 2:
            raise OSError("store away for a moment")
        n = sum(s.values.size for s in samples)
        self.readings += n
        return n

    def failed(self, f, new_life):
        pass

    def replaced(self):
        return {}

    def close(self):
        pass


def test_a_bad_tick_is_logged_and_the_stream_goes_on(caplog):
    t = _Flaky()
    clock = [END + timedelta(hours=1)]
    sim = Simulator(t, LiveFleet(ASSETS, 0), speed=1e6, start=END, clock=lambda: clock[0])
    sim._t0 = time.monotonic() - 10  # as if started a while ago: the clock caps simulated time
    for h in range(2, 5):
        clock[0] = END + timedelta(hours=h)
        sim.tick()
    assert sim.errors == 1 and "store away" in sim.last_error
    assert t.calls == 3 and t.readings > 0
    assert "tick failed" in caplog.text


def test_cli_without_a_fleet_says_what_to_do(tmp_path):
    db = str(tmp_path / "empty.duckdb")
    open_platform(Settings(db=db, artifacts_dir=tmp_path / "a")).close()
    r = CliRunner().invoke(app, ["simulate", "--db", db, "--duration", "1"])
    assert r.exit_code != 0
    assert "no elevators, chains or turbofans" in str(r.exception)


@pytest.mark.integration
def test_cli_publishes_the_demo_fleet_to_a_broker(mqtt_broker):
    sub = _Subscriber(mqtt_broker.port)
    assert sub.ready.wait(10)
    r = CliRunner().invoke(
        app, ["simulate", "--broker", mqtt_broker.url, "--duration", "2", "--speed", "36000"]
    )
    sub.close()
    assert r.exit_code == 0, r.output
    assert "simulating" in r.output and "0 errors" in r.output
    customers = {t.split("/")[1] for t, _, _ in sub.messages}
    assert {"liftwerk", "alpenquell", "autowerk"} <= customers


@pytest.mark.integration
def test_the_mqtt_transport_publishes_again_after_a_broker_restart(tmp_path):
    from prognos import devservers

    with devservers.mosquitto() as broker:
        clock = [END]
        sim = Simulator(
            broker.url, LiveFleet(ASSETS, 1), speed=3600.0, tick_s=0.05, clock=lambda: clock[0]
        )
        sim.start()
        try:
            sub = _Subscriber(broker.port)
            assert sub.ready.wait(10)
            clock[0] = END + timedelta(hours=2)
            wait_until(lambda: sub.messages, 20, "messages before the restart")
            sub.close()
            broker.restart()  # the same port; the publisher's connection is gone
            sub = _Subscriber(broker.port)
            assert sub.ready.wait(10)
            clock[0] = END + timedelta(hours=6)
            wait_until(lambda: sub.messages, 30, "messages after the broker came back")
            sub.close()
        finally:
            sim.stop()
        assert sim.status()["errors"] == 0
