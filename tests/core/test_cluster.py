"""Several processes on one PostgreSQL behave as one platform: registry changes reach every
process, any server refreshes forecasts for readings any worker stored, one server of several
leads each job, and each server's status, health and metrics show every process's workers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pytest

from prognos.config import Settings
from prognos.domain import Asset, AssetType, Channel, Customer, ReadingBatch, Site
from prognos.domain.keys import MANUFACTURER
from prognos.server import create_server_app
from prognos.service.platform import open_platform
from prognos.service.workers import RefreshWorker
from prognos.service.workers.heartbeat import Heartbeat
from support import running_app, wait_until

pytestmark = pytest.mark.integration

START = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def two(pg_server, tmp_path):
    """Two processes' platforms (their own caches and connections) on one database."""
    url = pg_server.create_database(f"two{id(tmp_path) % 100000}")
    a = open_platform(Settings(db=url, artifacts_dir=tmp_path))
    b = open_platform(Settings(db=url, artifacts_dir=tmp_path))
    yield a, b
    a.close()
    b.close()


def _chain_world(p, assets=("chain-1",)):
    p.registry.add_asset_type(
        MANUFACTURER,
        AssetType(
            id="chain_drive",
            time_unit="days",
            failure_threshold={"elongation": 3.0},
            channels=[Channel(name="elongation", unit="%", min=0, max=10)],
        ),
    )
    p.registry.add_customer(MANUFACTURER, Customer(id="bottler", name="Bottler"))
    p.registry.add_site(MANUFACTURER, Site(id="line-1", customer_id="bottler", name="Line 1"))
    _register(p, list(assets))


def _register(p, ids):
    p.registry.add_assets(
        MANUFACTURER,
        [
            Asset(
                id=i,
                customer_id="bottler",
                site_id="line-1",
                type_id="chain_drive",
                installed_at=START,
            )
            for i in ids
        ],
    )


def _readings(asset_id: str, days: int, start=START) -> ReadingBatch:
    ts = np.array(
        [np.datetime64(start.replace(tzinfo=None) + timedelta(days=d), "us") for d in range(days)]
    )
    return ReadingBatch(
        np.array([asset_id] * days, dtype=object),
        np.array(["elongation"] * days, dtype=object),
        ts,
        0.01 * np.arange(days, dtype=float),
    )


def test_an_asset_registered_in_one_process_is_known_to_another_within_seconds(two):
    a, b = two
    _chain_world(a)
    assert "chain-1" in b.registry.snapshot().assets
    r = b.telemetry.ingest_batch(MANUFACTURER, _readings("chain-2", 3))
    assert r.accepted == 0 and "unknown asset" in r.rejected[0].reason  # not registered yet
    _register(a, ["chain-2"])  # through the other process's API, say
    wait_until(lambda: "chain-2" in b.registry.snapshot().assets, 3, "the new asset in b")
    assert b.telemetry.ingest_batch(MANUFACTURER, _readings("chain-2", 3)).accepted == 3


def test_a_server_refreshes_forecasts_for_readings_another_process_stored(two):
    a, b = two
    _chain_world(a)
    refresher = RefreshWorker(
        b.telemetry, b.registry, b.forecasts, 0.1, activity=b.store, leases=b.store
    ).start()
    try:
        # an ingest worker elsewhere (a) stores readings; nothing passes through b
        a.telemetry.ingest_batch(MANUFACTURER, _readings("chain-1", 120))
        wait_until(lambda: b.store.latest_forecast("chain-1") is not None, 20, "a forecast")
        assert refresher.status()["leader"] is True
        assert b.store.refresh_backlog() == (0, 0.0)
    finally:
        refresher.stop()


def test_of_two_servers_one_refreshes_and_the_other_stands_by(two):
    a, b = two
    _chain_world(a)
    workers = [
        RefreshWorker(p.telemetry, p.registry, p.forecasts, 0.1, activity=p.store, leases=p.store)
        for p in two
    ]
    try:
        for w in workers:
            w.start()
        wait_until(lambda: sum(w.status()["leader"] for w in workers) == 1, 10, "one leader")
        b.telemetry.ingest_batch(MANUFACTURER, _readings("chain-1", 120))
        leader = next(w for w in workers if w.status()["leader"])
        standby = next(w for w in workers if w is not leader)
        # the count follows the saved forecast: await it, not the row
        wait_until(lambda: leader.refreshed >= 1, 20, "the leader's forecast")
        assert a.store.latest_forecast("chain-1") is not None and standby.refreshed == 0
        assert standby.status()["state"] == "standby"
    finally:
        for w in workers:
            w.stop()


def test_every_server_shows_the_workers_of_every_process(two, tmp_path):
    a, b = two
    # "another process": b's refresher, beating as if it ran on another host
    other = RefreshWorker(b.telemetry, b.registry, b.forecasts, 60.0).start()
    beat = Heartbeat(b.store, {"forecast_refresh": other}, interval=0.1)
    beat.process = "ingest-host:4242"
    beat.tick()
    other.stop()
    key = a.keys.create(MANUFACTURER, None, "ops")[0]
    app = create_server_app(a.settings.model_copy(update={"refresh_interval": 0}), platform=a)
    with running_app(app) as base:
        h = {"X-API-Key": key}
        st = httpx.get(f"{base}/api/v1/status", headers=h).json()["workers"]
        remote = st["forecast_refresh@ingest-host:4242"]
        assert remote["host"] == "ingest-host" and remote["heartbeat_age_s"] < 10
        assert "heartbeat" in st  # the server's own
        assert httpx.get(f"{base}/api/v1/health").json()["status"] == "ok"
        metrics = httpx.get(f"{base}/metrics", headers=h)
        assert metrics.status_code == 200
        assert 'prognos_worker_up{process="ingest-host:4242",worker="forecast_refresh"} 1.0' in (
            metrics.text
        )
        assert httpx.get(f"{base}/metrics").status_code == 401
        # the other process goes silent: every server's health says which worker is lost
        b.store._exec(
            "UPDATE workers SET heartbeat_at = heartbeat_at - INTERVAL '1 hour' "
            "WHERE host = 'ingest-host'"
        )
        r = httpx.get(f"{base}/api/v1/health")
        health = r.json()
        assert r.status_code == 503 and health["status"] == "degraded"
        assert "worker forecast_refresh@ingest-host:4242: lost" in health["problems"]
