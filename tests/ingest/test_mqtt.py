"""MQTT ingest: acknowledged means committed, through worker crashes, broker restarts and shared groups.

Every test gets its own Mosquitto, so persistent sessions left by one test never see another's
messages. Worker processes run the real command (``python -m prognos ingest mqtt``).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from prognos import devservers
from prognos.bench import fleet
from prognos.config import Settings
from prognos.domain import Principal
from prognos.domain.keys import MANUFACTURER
from prognos.ingest.mqtt import MqttWorker, parse_broker_url
from prognos.service.platform import open_platform
from prognos.service.workers import TopicPattern, mqtt_worker
from support import wait_until


# -- helpers ----------------------------------------------------------------------------------
@pytest.fixture
def broker() -> Iterator[devservers.Mosquitto]:
    with devservers.mosquitto(persistence=True) as b:
        yield b


def publish(port: int, messages: list[tuple[str, bytes]], timeout: float = 60) -> None:
    """Publish at QoS 1 and return once the broker has acknowledged every message."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    c.max_inflight_messages_set(500)
    c.connect("127.0.0.1", port)
    c.loop_start()
    try:
        infos = [c.publish(t, p, qos=1) for t, p in messages]
        for info in infos:
            info.wait_for_publish(timeout)
        assert all(i.is_published() for i in infos)
    finally:
        c.disconnect()
        c.loop_stop()


@pytest.fixture
def spawn(tmp_path) -> Iterator:
    """Start worker processes; whatever is still running at the end is killed."""
    started: list[WorkerProcess] = []

    def start(db: str, broker_url: str, name: str, client_id: str, *extra: str) -> WorkerProcess:
        w = WorkerProcess(db, broker_url, tmp_path / f"{name}.log", client_id, *extra)
        started.append(w)
        return w

    yield start
    for w in started:
        w.kill(signal.SIGKILL)
        w.wait(10)


def make_fleet_db(db: str, n_assets: int, n_channels: int, tmp_path: Path) -> None:
    p = open_platform(Settings(db=db, artifacts_dir=tmp_path / "artifacts"))
    try:
        fleet.setup_fleet(p, n_assets=n_assets, n_channels=n_channels)
    finally:
        p.close()


class WorkerProcess:
    """``python -m prognos ingest mqtt`` in a subprocess, its output in a file."""

    def __init__(self, db: str, broker_url: str, log: Path, client_id: str, *extra: str):
        self.log = log
        self._out = log.open("ab")
        env = {**os.environ, "PROGNOS_LOG_LEVEL": "DEBUG", "PROGNOS_DB": db}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "prognos", "ingest", "mqtt", "--broker", broker_url]
            + ["--client-id", client_id, *extra],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env=env,
        )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def acked_total(self) -> int:
        totals = re.findall(r"acked \d+ of \d+ messages \(total (\d+)\)", self.text())
        return int(totals[-1]) if totals else 0

    def wait_subscribed(self, timeout: float = 30) -> None:
        wait_until(
            lambda: "MQTT subscribed" in self.text() or self.proc.poll() is not None,
            timeout,
            "the worker to subscribe",
        )
        assert self.proc.poll() is None, self.text()

    def wait(self, timeout: float) -> int:
        rc = self.proc.wait(timeout)
        self._out.close()
        return rc

    def kill(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def summary(self) -> dict[str, int]:
        m = re.search(
            r"received (\d+) messages, acknowledged (\d+); stored (\d+) readings, "
            r"(\d+) duplicates, (\d+) quarantined",
            self.text(),
        )
        assert m, self.text()
        keys = ("received", "acked", "stored", "duplicates", "quarantined")
        return dict(zip(keys, map(int, m.groups()), strict=True))


def duckdb_totals(path: str) -> tuple[int, int, float]:
    with duckdb.connect(path, read_only=True) as con:
        n, distinct, total = con.execute(
            "SELECT count(*), count(DISTINCT (asset_id, channel, ts)), sum(value) FROM telemetry"
        ).fetchone()
    return int(n), int(distinct), float(total or 0)


# -- pure pieces ------------------------------------------------------------------------------
def test_topic_pattern_finds_customer_and_asset():
    p = TopicPattern("prognos/+/+/telemetry")
    assert p.parse("prognos/acme/acme-p1/telemetry") == ("acme", "acme-p1")
    assert p.parse("prognos/acme/acme-p1/status") is None
    assert p.parse("prognos/acme/telemetry") is None
    assert p.parse("prognos//acme-p1/telemetry") is None
    assert TopicPattern("plant/+/+/#").parse("plant/acme/p1/x/y") == ("acme", "p1")


def test_broker_url_forms():
    a = parse_broker_url("mqtt://u:p%40ss@broker.local:1884")
    assert (a.host, a.port, a.username, a.password, a.tls) == (
        "broker.local",
        1884,
        "u",
        "p@ss",
        False,
    )
    assert parse_broker_url("mqtts://h").port == 8883
    assert parse_broker_url("h:1999").port == 1999


# -- in-process worker ------------------------------------------------------------------------
@pytest.mark.integration
def test_good_and_bad_messages_are_stored_or_quarantined_and_all_acked(seeded, broker):
    cid = f"w-{uuid.uuid4().hex[:6]}"
    ts = "2025-06-01T00:00:00Z"
    one = {"ts": ts, "values": {"temp": 40.0, "vibration": 1}}
    two = [{"ts": ts, "values": {"temp": 41.0}}, {"cycle": 3, "values": {"temp": 42.0}}]
    messages = [
        ("prognos/acme/acme-p1/telemetry", json.dumps(one).encode()),
        ("prognos/acme/acme-p2/telemetry", json.dumps(two).encode()),
        # bad ones: another customer's asset, an unknown asset, not JSON, out of range
        ("prognos/globex/acme-p1/telemetry", json.dumps(one).encode()),
        ("prognos/acme/acme-p9/telemetry", json.dumps(one).encode()),
        ("prognos/acme/acme-p1/telemetry", b"{not json"),
        (
            "prognos/acme/acme-p1/telemetry",
            json.dumps({"ts": ts, "values": {"temp": 999}}).encode(),
        ),
    ]
    worker = mqtt_worker(seeded, broker=broker.url, client_id=cid)
    worker.start()
    try:
        assert worker.wait_subscribed(10)
        publish(broker.port, messages)
        wait_until(lambda: worker.stats.acked == len(messages), 10, "every message acked")
        st = worker.status()
        assert st["state"] == "connected" and st["acked"] == 6
        # rejections: tenancy 1, unknown asset 2 readings, not JSON 1, out of range 1
        assert (st["accepted"], st["rejected"]) == (4, 5)
    finally:
        worker.stop()
    assert seeded.store.count_readings() == 4
    rows = seeded.telemetry.quarantined(MANUFACTURER)
    reasons = {r["reason"] for r in rows}
    for expected in (
        "asset 'acme-p1' is not registered to customer 'globex'",
        "unknown asset",
        "not valid JSON",
        "above the channel's valid maximum",
    ):
        assert any(expected in r for r in reasons), (expected, reasons)
    assert all(r["source"] == "mqtt" for r in rows)
    # the tenancy rejection is filed under the asset's owner, not under the sender's topic
    assert seeded.telemetry.quarantined(Principal("k", "globex")) == [
        r for r in rows if r["customer_id"] == "globex"
    ]
    # acknowledged: the same session has nothing left to deliver
    again = mqtt_worker(seeded, broker=broker.url, client_id=cid)
    again.start()
    try:
        assert again.wait_subscribed(10)
        time.sleep(0.5)
        assert again.stats.received == 0
    finally:
        again.stop()


@pytest.mark.integration
def test_a_failing_store_is_retried_and_nothing_is_acked_until_it_commits(broker):
    calls: list[int] = []

    def store_down(messages):
        calls.append(len(messages))
        raise RuntimeError("store down")

    opts = dict(topic="t/+/+/x", group="g", client_id="retry", retry_delay_s=(0.05, 0.1))
    w = MqttWorker(broker.url, store_down, **opts)
    w.start()
    try:
        assert w.wait_subscribed(10)
        publish(broker.port, [(f"t/c/a{i}/x", b"{}") for i in range(5)])
        wait_until(lambda: len(calls) >= 3, 10, "three attempts")
        assert w.stats.acked == 0 and w.stats.handler_errors >= 3
    finally:
        w.stop()
    # stopped while failing: the broker still holds all five for the same session
    got: list = []
    w2 = MqttWorker(broker.url, got.extend, **opts)
    w2.start()
    try:
        wait_until(lambda: w2.stats.acked == 5, 10, "the five messages again, acknowledged")
    finally:
        w2.stop()
    assert sorted(m.topic for m in got) == [f"t/c/a{i}/x" for i in range(5)]


# -- worker processes -------------------------------------------------------------------------
N_ASSETS, N_CHANNELS, TICKS = 500, 20, 10  # 5,000 messages x 20 channels = 100,000 readings


@pytest.mark.integration
def test_sigkilled_worker_loses_nothing_and_stores_nothing_twice(broker, tmp_path, spawn):
    db = str(tmp_path / "fleet.duckdb")
    make_fleet_db(db, N_ASSETS, N_CHANNELS, tmp_path)
    messages = list(fleet.fleet_messages(N_ASSETS, N_CHANNELS, TICKS))
    total = len(messages) * N_CHANNELS
    assert total == 100_000

    first = spawn(db, broker.url, "w1", "crashy")
    first.wait_subscribed()
    publisher = threading.Thread(target=publish, args=(broker.port, messages), daemon=True)
    publisher.start()
    wait_until(lambda: first.acked_total() >= 1000, 60, "1,000 acknowledged messages")
    first.kill(signal.SIGKILL)
    assert first.wait(10) == -signal.SIGKILL
    acked = first.acked_total()  # the last ack it logged before it died
    assert acked < len(messages), "the worker must die mid-stream"

    # every message it acknowledged is committed: the file already holds its readings
    stored, distinct, _ = duckdb_totals(db)
    assert stored == distinct >= acked * N_CHANNELS

    publisher.join(60)
    assert not publisher.is_alive()
    second = spawn(db, broker.url, "w2", "crashy", "--idle-exit", "1.5")
    assert second.wait(90) == 0, second.text()
    assert second.summary()["received"] >= len(messages) - acked

    stored, distinct, value_sum = duckdb_totals(db)
    assert stored == distinct == total
    assert value_sum == fleet.expected_sum(N_ASSETS, N_CHANNELS, TICKS)


@pytest.mark.integration
@pytest.mark.parametrize("group", ["", "restart-group"], ids=["plain", "shared"])
def test_worker_reconnects_after_a_broker_restart_and_continues(broker, tmp_path, group):
    n_assets, n_channels = 200, 5
    s = Settings(db=str(tmp_path / "x.duckdb"), artifacts_dir=tmp_path / "a", mqtt_group=group)
    p = open_platform(s)
    fleet.setup_fleet(p, n_assets=n_assets, n_channels=n_channels)
    before = list(fleet.fleet_messages(n_assets, n_channels, ticks=5))
    after = list(fleet.fleet_messages(n_assets, n_channels, ticks=5, first_tick=5))
    total = (len(before) + len(after)) * n_channels
    worker = mqtt_worker(p, s, broker=broker.url, client_id="restarts", reconnect_delay_s=(0.2, 1))
    worker.start()
    try:
        assert worker.wait_subscribed(10)
        publish(broker.port, before)
        broker.restart()  # mid-stream: the worker has not taken everything in yet
        if group:
            # Mosquitto 2.0.11 restores a persistent session's plain subscriptions after a
            # restart but not its shared ones: until the worker subscribes again, messages
            # for the group find no subscriber (docs/bench/ingest.md, "Broker restarts").
            wait_until(lambda: worker.stats.subscribes >= 2, 30, "the worker to resubscribe")
        publish(broker.port, after)
        wait_until(lambda: p.store.count_readings() == total, 60, f"{total} readings stored")
        assert worker.stats.connects >= 2
    finally:
        worker.stop()
    try:
        rows = p.store._rows(
            "SELECT count(*), count(DISTINCT (asset_id, channel, ts)), sum(value) FROM telemetry"
        )[0]
    finally:
        p.close()
    assert (rows[0], rows[1]) == (total, total)
    assert rows[2] == fleet.expected_sum(n_assets, n_channels, 10)


@pytest.mark.integration
def test_two_workers_in_one_group_split_the_load(broker, pg_server, spawn, tmp_path):
    n_assets, n_channels, ticks = 200, 10, 10
    db = pg_server.create_database(f"mqtt_{uuid.uuid4().hex[:8]}")
    make_fleet_db(db, n_assets, n_channels, tmp_path)
    workers = [spawn(db, broker.url, f"g{i}", f"group-worker-{i}") for i in (1, 2)]
    for w in workers:
        w.wait_subscribed()
    messages = list(fleet.fleet_messages(n_assets, n_channels, ticks))
    total = len(messages) * n_channels
    publish(broker.port, messages)

    def stored() -> int:
        with psycopg.connect(db) as con:
            return con.execute("SELECT count(*) FROM telemetry").fetchone()[0]

    wait_until(lambda: stored() == total, 60, f"{total} readings in PostgreSQL")
    for w in workers:
        w.kill(signal.SIGTERM)
    for w in workers:
        assert w.wait(30) == 0, w.text()
    got = [w.summary() for w in workers]
    assert all(g["received"] > 0 for g in got), got  # both took a share
    assert sum(g["received"] for g in got) == len(messages)  # no message went to both
    assert sum(g["stored"] for g in got) == total
    assert sum(g["duplicates"] for g in got) == 0
    with psycopg.connect(db) as con:
        n, distinct, value_sum = con.execute(
            "SELECT count(*), count(DISTINCT (asset_id, channel, ts)), sum(value) FROM telemetry"
        ).fetchone()
    assert n == distinct == total
    assert value_sum == fleet.expected_sum(n_assets, n_channels, ticks)


@pytest.mark.integration
def test_the_command_says_so_when_a_server_holds_the_duckdb_file(broker, tmp_path):
    db = str(tmp_path / "held.duckdb")
    holder = open_platform(Settings(db=db, artifacts_dir=tmp_path / "a"))
    try:
        run = subprocess.run(
            [sys.executable, "-m", "prognos", "ingest", "mqtt", "--broker", broker.url],
            env={**os.environ, "PROGNOS_DB": db},
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        holder.close()
    assert run.returncode == 2, run.stderr
    assert "open in another prognos process" in run.stderr
    assert "Traceback" not in run.stderr
