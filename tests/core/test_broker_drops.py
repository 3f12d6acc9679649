"""A worker that falls behind: a stock broker drops what it cannot queue, and the worker says so
loudly; the broker configuration prognos ships keeps it all."""

from __future__ import annotations

import logging
import time

import pytest
from scale_support import DEPLOY, publish, stream

from prognos import devservers
from prognos.bench import fleet
from prognos.config import Settings
from prognos.domain.keys import MANUFACTURER
from prognos.service.platform import open_platform
from prognos.service.workers import mqtt_worker
from support import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ASSETS, TICKS = 100, 30  # 3,000 messages, three times the stock queue limit


class Slow:
    """The worker's handler, committing no faster than ``per_batch_s`` a batch."""

    def __init__(self, handler, per_batch_s: float):
        self.inner, self.per_batch_s = handler, per_batch_s

    def prepare(self, messages):
        return self.inner.prepare(messages)

    def commit(self, prepared):
        time.sleep(self.per_batch_s)
        self.inner.commit(prepared)

    def status(self):
        return self.inner.status()


def _slow_worker(platform, broker, **login):
    w = mqtt_worker(platform, broker=broker.url, max_batch=20, max_wait_s=0.001)
    w.mqtt._steps = Slow(w.mqtt._steps, 0.02)  # about 1,000 messages a second at most
    if login:
        w.mqtt._subscriber.username, w.mqtt._subscriber.password = login["user"], login["pw"]
        w.mqtt.drops._subscriber.username = login["user"]
        w.mqtt.drops._subscriber.password = login["pw"]
    return w


@pytest.fixture
def platform(tmp_path):
    p = open_platform(Settings(db=str(tmp_path / "p.duckdb"), artifacts_dir=tmp_path))
    fleet.setup_fleet(p, n_assets=ASSETS, n_channels=4)
    yield p
    p.close()


def test_a_stock_broker_that_drops_messages_is_reported_loudly(platform, caplog):
    caplog.set_level(logging.WARNING, "prognos.ingest.mqtt_drops")
    with devservers.mosquitto(queue_limit=None, sys_interval=1) as broker:
        worker = _slow_worker(platform, broker)
        worker.start()
        try:
            assert worker.wait_subscribed(10)
            wait_until(lambda: worker.status()["broker_dropped"] is not None, 10, "$SYS")
            publish(broker.port, stream(ASSETS, TICKS))  # every message acknowledged
            wait_until(lambda: worker.status()["broker_drops_seen"] > 0, 15, "drops seen")
            st = worker.status()
            stored = platform.telemetry.count(MANUFACTURER)
        finally:
            worker.stop()
    # readings were lost, and everything that should say so does
    assert stored < ASSETS * TICKS * 4
    assert st["broker_drop_watch"] == "watching" and st["last_broker_drop"]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and "readings that devices had published are lost" in errors[0].getMessage()
    problems = platform.cluster.problems(MANUFACTURER, {"mqtt": worker})
    assert any("dropped messages" in p for p in problems)


def test_the_shipped_broker_configuration_loses_nothing_to_a_slow_worker(platform):
    mqtt_dir = DEPLOY / "mosquitto"
    users = {"prognos-ingest": "in9est", **{fleet.asset_id(i): f"pw{i}" for i in range(ASSETS)}}
    with devservers.mosquitto(
        config=mqtt_dir / "mosquitto.conf", acl=mqtt_dir / "acl", users=users, sys_interval=1
    ) as broker:
        worker = _slow_worker(platform, broker, user="prognos-ingest", pw="in9est")
        worker.start()
        try:
            assert worker.wait_subscribed(10)
            logins = {k: v for k, v in users.items() if k != "prognos-ingest"}
            publish(broker.port, stream(ASSETS, TICKS), logins=logins)
            expected = ASSETS * TICKS * 4
            wait_until(lambda: platform.telemetry.count(MANUFACTURER) >= expected, 60, "all stored")
            st = worker.status()
        finally:
            worker.stop()
    assert platform.telemetry.count(MANUFACTURER) == expected
    # the ACL lets the worker read the broker's drop counter, and it stayed at zero
    assert st["broker_drop_watch"] == "watching" and st["broker_drops_seen"] == 0
