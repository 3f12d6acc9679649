"""`prognos serve` hosts the OPC UA worker and reports its connection as a health signal."""

from __future__ import annotations

import time

import httpx
import pytest
import yaml
from opcua_world import PUMPS

from prognos.config import Settings
from prognos.domain.keys import MANUFACTURER
from prognos.server import create_server_app
from prognos.service.platform import open_platform
from support import running_app, seed

pytestmark = pytest.mark.integration


def test_serve_runs_the_opcua_worker_and_reports_its_state(tmp_path, sim_server):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(yaml.safe_dump({"endpoint": sim_server.endpoint, "items": PUMPS}))
    settings = Settings(
        db=str(tmp_path / "s.duckdb"), opcua_mapping=mapping, artifacts_dir=tmp_path / "a"
    )
    platform = open_platform(settings)
    seed(platform)
    key, _ = platform.keys.create(MANUFACTURER, None)
    with running_app(create_server_app(settings, platform)) as url, httpx.Client(base_url=url) as c:
        deadline = time.monotonic() + 20
        while platform.store.count_readings() < 40 and time.monotonic() < deadline:
            time.sleep(0.2)
        opcua = c.get("/api/v1/status", headers={"X-API-Key": key}).json()["workers"]["opcua"]
        stored = platform.store.count_readings()
    assert opcua["state"] == "connected" and opcua["monitored_items"] == 4
    assert stored >= opcua["accepted"] >= 40 and opcua["last_data_at"] is not None
