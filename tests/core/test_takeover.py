"""MQTT workers that die or leave: a survivor stores their share, and each has its own id."""

from __future__ import annotations

import os
import signal

import pytest
from scale_support import publish, start, stop, stream

from prognos import devservers
from prognos.bench import fleet
from prognos.config import Settings
from prognos.domain.keys import MANUFACTURER
from prognos.service.platform import open_platform
from prognos.service.workers import mqtt_worker
from support import wait_until


def test_workers_started_without_a_client_id_each_get_their_own(tmp_path):
    p = open_platform(Settings(db=str(tmp_path / "x.duckdb"), artifacts_dir=tmp_path))
    try:
        ids = {mqtt_worker(p, broker="mqtt://127.0.0.1:1").client_id for _ in range(3)}
        assert len(ids) == 3  # two on one host no longer knock each other off the broker
        assert all(str(os.getpid()) in i for i in ids)
    finally:
        p.close()


@pytest.mark.integration
@pytest.mark.slow
def test_a_killed_worker_s_share_is_stored_by_the_survivor_without_duplicates(pg_server, tmp_path):
    """Two workers share the stream; one is killed (SIGKILL) mid-stream and never comes back.
    Its persistent session goes on receiving half of what is published; the survivor takes it
    over and stores all of it within 60 s of the stream's end."""
    url = pg_server.create_database("takeover")
    assets, ticks = 100, 40  # 4,000 messages of 4 readings
    p = open_platform(Settings(db=url, artifacts_dir=tmp_path))
    try:
        _kill_one_of_two(p, url, assets, ticks, tmp_path)
    finally:
        p.close()


def _kill_one_of_two(p, url, assets, ticks, tmp_path) -> None:
    fleet.setup_fleet(p, n_assets=assets, n_channels=4)
    settings = dict(db=url, mqtt_takeover_after=3, heartbeat_interval=0.5, log_level="INFO")
    with devservers.mosquitto(persistence=True) as broker:
        workers = [
            start(["ingest", "mqtt", "--broker", broker.url], tmp_path / f"w{i}.log", **settings)
            for i in range(2)
        ]
        try:

            def subscribed() -> int:
                rows = p.cluster.workers(MANUFACTURER, {})
                return sum(
                    k.startswith("mqtt@") and st["state"] == "connected" for k, st in rows.items()
                )

            wait_until(lambda: subscribed() == 2, 60, "two connected workers")
            messages = stream(assets, ticks)
            half = len(messages) // 2
            publish(broker.port, messages[:half])
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(10)
            publish(broker.port, messages[half:])  # half of it goes to the dead worker's session
            expected = assets * ticks * 4
            wait_until(
                lambda: p.telemetry.count(MANUFACTURER) >= expected, 60, "every reading stored"
            )
            survivor = f"mqtt_takeover@{{}}:{workers[1].pid}".format(os.uname().nodename)

            def takeover() -> dict:
                return p.cluster.workers(MANUFACTURER, {}).get(survivor, {})

            wait_until(lambda: takeover().get("takeovers") == 1, 10, "the takeover reported")
            assert takeover()["drained_messages"] > 0
        finally:
            stop(workers)
        # nothing twice, and the values are the ones sent
        distinct = p.store._rows("SELECT count(DISTINCT (asset_id, channel, ts)) FROM telemetry")
        assert p.telemetry.count(MANUFACTURER) == expected == distinct[0][0]
        total = p.store._rows("SELECT sum(value) FROM telemetry")[0][0]
        assert total == pytest.approx(fleet.expected_sum(assets, 4, ticks))
        # the dead worker's session is gone: nothing more is queued for it
        dead = [r for r in p.store.list_workers("mqtt") if r["pid"] == workers[0].pid]
        assert dead == []
