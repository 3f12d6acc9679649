"""The server hosts its workers: readings published over MQTT reach the store of `prognos serve`."""

from __future__ import annotations

import json
import time

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from prognos.config import Settings
from prognos.domain.keys import MANUFACTURER
from prognos.server import create_server_app
from prognos.service.platform import open_platform
from support import running_app, seed


@pytest.mark.integration
def test_serve_hosts_an_mqtt_worker_and_reports_it(tmp_path, mqtt_broker):
    settings = Settings(
        db=str(tmp_path / "s.duckdb"),
        mqtt_broker=mqtt_broker.url,
        mqtt_group="",
        artifacts_dir=tmp_path / "a",
    )
    platform = open_platform(settings)
    seed(platform)
    key, _ = platform.keys.create(MANUFACTURER, None)
    app = create_server_app(settings, platform)
    with running_app(app) as url, httpx.Client(base_url=url) as client:
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-device")
        pub.connect("127.0.0.1", mqtt_broker.port)
        pub.loop_start()
        try:
            payload = {"ts": "2025-06-01T00:00:00Z", "values": {"temp": 21.5, "vibration": 0.3}}
            deadline = time.monotonic() + 15
            while platform.store.count_readings() < 2 and time.monotonic() < deadline:
                # the worker subscribes during start-up; QoS 1 retries until it is there
                pub.publish(
                    "prognos/acme/acme-p1/telemetry", json.dumps(payload), qos=1
                ).wait_for_publish(5)
                time.sleep(0.3)
        finally:
            pub.disconnect()
            pub.loop_stop()
        assert platform.store.count_readings() == 2
        status = client.get("/api/v1/status", headers={"X-API-Key": key}).json()
        assert set(status["workers"]) >= {"mqtt", "forecast_refresh", "compaction"}
        assert status["workers"]["forecast_refresh"]["running"] is True
        assert status["workers"]["compaction"]["running"] is True  # nightly, on DuckDB
        assert status["workers"]["compaction"]["hour"] == settings.compact_hour
